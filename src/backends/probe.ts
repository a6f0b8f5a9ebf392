// The probe's answer: parsing the facts a target reports about itself.
import { HostError } from '../errors.js';

/** What a target said about itself. Empty strings mean "not present". */
export interface ProbeFacts {
  nixos: boolean;
  /** /run/current-system resolved, or '' */
  current: string;
  booted: string;
  /** The system profile resolved (the boot default on NixOS). */
  profile: string;
  generation?: number;
  systemd: boolean;
  bootId: string;
  freeNixKiB?: number;
  /** sha256 of each probed key file, or 'missing'. */
  keys: Record<string, string>;
  /**
   * Per probed secret (by its index among the probed paths): `<keyed sha256> <owner> <group> <mode>`,
   * or 'missing'. See PROBE_FUNCTION.
   */
  secrets: Record<string, string>;
  /** Whether the built system's closure is in the target's store (when the probe was asked). */
  closure?: 'present' | 'absent';
}

/** True only when the answer proves the target is not NixOS: no /etc/NIXOS and no live system. */
export function provenNotNixos(facts: ProbeFacts): boolean {
  return !facts.nixos && facts.current === '';
}

/**
 * Parses the probe's `key=value` lines. An answer without the final `end=ok`, or without a
 * clear nixos=yes|no, is an error: nothing destructive may be decided on it.
 */
export function parseProbe(stdout: string, host: string): ProbeFacts {
  const values = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) values.set(line.slice(0, eq), line.slice(eq + 1));
  }
  const nixos = values.get('nixos');
  if (values.get('end') !== 'ok' || (nixos !== 'yes' && nixos !== 'no')) {
    throw new HostError(host, 'probe', 'the probe gave an unexpected answer; not deciding anything on it', stdout.split('\n').slice(-20));
  }
  const keys: Record<string, string> = {};
  const secrets: Record<string, string> = {};
  for (const [k, v] of values) {
    if (k.startsWith('key:')) keys[k.slice(4)] = v;
    else if (k.startsWith('secret:')) secrets[k.slice(7)] = v;
  }
  const generation = Number.parseInt(values.get('generation') ?? '', 10);
  const free = Number.parseInt(values.get('freeNixKiB') ?? '', 10);
  return {
    nixos: nixos === 'yes',
    current: values.get('current') ?? '',
    booted: values.get('booted') ?? '',
    profile: values.get('profile') ?? '',
    generation: Number.isFinite(generation) ? generation : undefined,
    systemd: values.get('systemd') === 'yes',
    bootId: values.get('bootId') ?? '',
    freeNixKiB: Number.isFinite(free) ? free : undefined,
    keys,
    secrets,
    ...(values.get('closure') === 'present' || values.get('closure') === 'absent' ? { closure: values.get('closure') as 'present' | 'absent' } : {}),
  };
}
