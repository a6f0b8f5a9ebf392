// fleet status: what the flake wants per host (evaluation only) and the verdict against what the host runs.
import { tailLines, type Exec } from '../exec/index.js';
import type { Mode, ToolCommands } from '../manifest/inventory.js';
import { buildAttributes, nixEvalCommand, resolveArgv, specialisationAttribute, type EvalCacheState } from '../plan/index.js';
import { keepEvaluation } from './eval-cache.js';
import type { HistoryRecord } from './history.js';
import type { ProbeFacts } from './probe.js';
import { evaluatedFrom, evaluatorMessages, type Evaluated } from './build.js';

/** How a host stands against the flake. */
export type StatusVerdict =
  | 'up-to-date' // runs the wanted system, which is also its boot default
  | 'outdated' // runs (or boots into) something else than the flake wants
  | 'pending-reboot' // the boot default is the wanted system, the live one is not
  | 'unreachable'
  | 'not-installed' // the probe proves the host is not NixOS
  | 'error'; // the flake could not be evaluated for it, or the answer was unusable

/** What `fleet status` knows of one host. */
export interface HostStatus {
  host: string;
  verdict: StatusVerdict;
  /** /run/current-system ('' when none or unknown). */
  live: string;
  /** The system profile: what the host boots next. */
  bootDefault: string;
  /** /run/booted-system. */
  booted: string;
  generation?: number;
  /** The toplevel the flake evaluates to for this host ('' when evaluation failed). */
  wanted: string;
  /** Why it is unreachable or in error, or a note. */
  detail: string;
  /** The newest deploy-history record of the live system: who deployed it, from which revision. */
  liveRecord?: HistoryRecord;
  /** Its secrets, by the digest check (absent: the host has none, or was not probed). */
  secrets?: HostSecrets;
}

/** Whether a host's secrets are all in place (owner, group, mode and content), by the digest check. */
export interface HostSecrets {
  /** in-place; missing: some are absent or differ (e.g. /run/keys emptied by a reboot); unknown: a source could not be read. */
  state: 'in-place' | 'missing' | 'unknown';
  /** One entry per secret not in place (`name: why`), or why they could not be checked. */
  problems: string[];
}

/**
 * The verdict from the probe's facts and the wanted system. A host in `test` mode only needs the
 * wanted system live; every other mode needs it live and as the boot default. `wantedLive` is what
 * must run live when that is a specialisation of the wanted system (which stays the boot default).
 */
export function statusVerdict(facts: ProbeFacts, wanted: string, mode: Mode, wantedLive: string = wanted): Exclude<StatusVerdict, 'unreachable' | 'error'> {
  if (!facts.nixos && facts.current === '') return 'not-installed';
  const live = facts.current === wantedLive;
  const boots = facts.profile === wanted;
  if (live && (boots || mode === 'test')) return 'up-to-date';
  if (boots && !live) return 'pending-reboot';
  return 'outdated';
}

/**
 * The exit code for a set of verdicts: 1 on any error or unreachable host (or secrets that could
 * not be checked), else 3 when any is not up to date or misses secrets.
 */
export function statusExitCode(
  verdicts: readonly StatusVerdict[],
  codes: { ok: number; failure: number; outOfSync: number },
  secrets: readonly (HostSecrets['state'] | undefined)[] = [],
): number {
  if (verdicts.some((v) => v === 'unreachable' || v === 'error') || secrets.includes('unknown')) return codes.failure;
  if (verdicts.some((v) => v !== 'up-to-date') || secrets.includes('missing')) return codes.outOfSync;
  return codes.ok;
}

/** Result of evaluating the wanted systems: a store path per host, or why not. */
export interface WantedSystems {
  paths: Map<string, string>;
  /** The toplevel of the specialisation a host runs live, for hosts that have one. */
  live: Map<string, string>;
  errors: Map<string, string>;
}

/**
 * The toplevel output path of every host from one `nix eval` (no build); when that evaluation
 * fails, each host is evaluated alone so the error lands on its host. With `evaluation.cache`,
 * each host's evaluation is kept in the evaluation cache.
 */
export async function evaluateWantedSystems(
  commands: ToolCommands,
  flake: string,
  hosts: readonly string[],
  exec: Exec,
  signal?: AbortSignal,
  evaluation: { impure?: boolean; cache?: EvalCacheState } = {},
  specialisations: ReadonlyMap<string, string> = new Map(),
): Promise<WantedSystems> {
  const result: WantedSystems = { paths: new Map(), live: new Map(), errors: new Map() };
  const attributes = (host: string) => {
    const name = specialisations.get(host);
    return [...buildAttributes(flake, host, undefined), ...(name ? [specialisationAttribute(flake, host, name)] : [])];
  };
  const evaluate = async (names: readonly string[]): Promise<string | Evaluated> => {
    const command = nixEvalCommand(commands, flake, names.flatMap(attributes), evaluation.impure);
    const run = await exec({ argv: resolveArgv(command.argv, {}), signal, timeoutMs: 300_000 });
    if (run.exitCode !== 0) {
      const tail = tailLines({ stdout: '', stderr: evaluatorMessages(run.stderr) });
      return (tail.filter((l) => /error/i.test(l)).at(-1) ?? tail.at(-1) ?? `nix eval failed (exit ${run.exitCode})`).trim();
    }
    return evaluatedFrom(run.stdout) ?? 'nix eval printed no JSON result';
  };
  if (hosts.length === 0) return result;
  const take = (names: readonly string[], answer: Awaited<ReturnType<typeof evaluate>>) => {
    for (const host of names) {
      const outputs = typeof answer === 'string' ? undefined : answer[host];
      const out = outputs?.toplevel?.out;
      const special = outputs?.specialisation?.out;
      if (special) result.live.set(host, special);
      if (outputs) keepEvaluation(evaluation.cache, buildAttributes(flake, host, undefined), outputs);
      if (out) result.paths.set(host, out);
      else result.errors.set(host, typeof answer === 'string' ? answer : 'no toplevel in the evaluation');
    }
  };
  const whole = await evaluate(hosts);
  if (typeof whole !== 'string' || hosts.length === 1) take(hosts, whole);
  else for (const host of hosts) take([host], await evaluate([host]));
  return result;
}
