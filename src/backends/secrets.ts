// Secrets at deploy time: reading sources on this machine (in memory, once per run), comparing them
// with the target's files through keyed digests, and the records an upload sends on stdin.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { HostError } from '../errors.js';
import { redactionPatterns, redactText, tailLines, type Exec, type ExecResult } from '../exec/index.js';
import type { SecretSource } from '../manifest/inventory.js';
import {
  describeSecretSource,
  pushSecretsInput,
  resolveArgv,
  type PlannedSecret,
  type SecretRestore,
  type SecretsStep,
  type SecretUpload,
} from '../plan/index.js';
import { parseProbe } from './probe.js';
import { describeSshFailure, SSH_FAILED } from './ssh-failure.js';

/** How long a source command may take (a password manager waiting for a PIN entry ends here). */
const SOURCE_TIMEOUT_MS = 120_000;

/** Why a source gave no secret: one line, never the content. */
export class SecretSourceError extends Error {}

function sourceKey(source: SecretSource): string {
  if (source.kind === 'command') return JSON.stringify(['command', source.cwd, source.argv]);
  if (source.kind === 'file') return JSON.stringify(['file', source.path]);
  return JSON.stringify(['env', source.name]);
}

/**
 * Values of the environment variables that secrets are read from, taken out of fleet's own
 * environment as soon as the manifest names them: no process fleet starts (ssh, nix, a source
 * command) inherits them, so none can forward one to a target (ssh's SendEnv) or show it.
 */
const withheld = new Map<string, string>();

/** Takes these variables out of process.env (once), keeping their values for the SecretReader. */
export function withholdSecretEnvironment(names: Iterable<string>): void {
  for (const name of names) {
    const value = process.env[name];
    if (value === undefined) continue;
    withheld.set(name, value);
    delete process.env[name];
  }
}

function secretEnvironment(): Readonly<Record<string, string | undefined>> {
  return { ...process.env, ...Object.fromEntries(withheld) };
}

/**
 * Reads secret sources, each once per run however many hosts share it, and keeps the contents in
 * memory only (never on disk, never in an argv or environment). `dispose()` overwrites them.
 */
export class SecretReader {
  private readonly cache = new Map<string, Promise<Buffer>>();
  private readonly held: Buffer[] = [];

  constructor(
    private readonly exec: Exec,
    private readonly env: Readonly<Record<string, string | undefined>> = secretEnvironment(),
  ) {}

  /** The content of one secret, or a SecretSourceError saying why not. */
  read(secret: PlannedSecret, signal?: AbortSignal): Promise<Buffer> {
    const key = sourceKey(secret.source);
    let pending = this.cache.get(key);
    if (!pending) {
      pending = this.load(secret.source, signal).then((content) => {
        this.held.push(content);
        return content;
      });
      this.cache.set(key, pending);
    }
    return pending;
  }

  /** Every secret of a list, in order; the first failing source fails it with that secret's name. */
  async readAll(host: string, step: string, secrets: readonly PlannedSecret[], signal?: AbortSignal): Promise<Buffer[]> {
    const contents: Buffer[] = [];
    for (const secret of secrets) {
      let content: Buffer;
      try {
        content = await this.read(secret, signal);
      } catch (error) {
        const why = error instanceof Error ? error.message : String(error);
        throw new HostError(host, step, `secret ${secret.name}: ${why}`, [], 'fix the source in fleet.yaml (command, file or env), then run again');
      }
      // An empty secret is nearly always a source that failed quietly (a command printing nothing).
      if (content.length === 0 && secret.allowEmpty !== true) {
        throw new HostError(
          host,
          step,
          `secret ${secret.name}: ${describeSecretSource(secret.source)} gave an empty secret`,
          [],
          'fix the source in fleet.yaml, or set `allowEmpty: true` on the secret if empty is what it should be',
        );
      }
      contents.push(content);
    }
    return contents;
  }

  private async load(source: SecretSource, signal?: AbortSignal): Promise<Buffer> {
    if (source.kind === 'env') {
      const value = this.env[source.name];
      if (value === undefined) throw new SecretSourceError(`environment variable ${source.name} is not set`);
      return Buffer.from(value);
    }
    if (source.kind === 'file') {
      try {
        return readFileSync(source.path);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        throw new SecretSourceError(`cannot read ${source.path} (${code === 'ENOENT' ? 'no such file' : (code ?? 'error')})`);
      }
    }
    // stdout stays in memory: no onLine (nothing streams to a screen or log), bytes kept as they are.
    const result = await this.exec({ argv: source.argv, cwd: source.cwd, signal, timeoutMs: SOURCE_TIMEOUT_MS, binaryStdout: true });
    const content = result.stdoutBytes ?? Buffer.from(result.stdout);
    if (result.exitCode !== 0) {
      // Its stderr may name what went wrong; whatever it printed on stdout is not repeated.
      const redactions = redactionPatterns([content]);
      const last = redactText(result.stderr, redactions.patterns).split('\n').map((l) => l.trim()).filter(Boolean).at(-1);
      redactions.dispose();
      content.fill(0);
      const how = result.timedOut ? `took longer than ${SOURCE_TIMEOUT_MS / 1000}s` : result.exitCode === 127 && !result.signal ? 'could not be run' : `exited ${result.exitCode ?? result.signal}`;
      throw new SecretSourceError(`${describeSecretSource(source)} ${how}${last ? `: ${last}` : ''}`);
    }
    return content;
  }

  /** Overwrites every content read (the end of a run). */
  dispose(): void {
    for (const content of this.held) content.fill(0);
    this.held.length = 0;
    this.cache.clear();
  }
}

/** A fresh random digest key for one probe: the target's answer is useless without it and never repeats. */
export function newDigestKey(): string {
  return randomBytes(16).toString('hex');
}

/** sha256 over the digest key, then the content: what the probe computes on the target. */
export function secretDigest(digestKey: string, content: Buffer): string {
  return createHash('sha256').update(digestKey).update(content).digest('hex');
}

/** How one secret stands on the target. */
export type SecretState =
  | { kind: 'in-place' }
  | { kind: 'missing' }
  /** There, but not as wanted: the content, the owner or group, or the mode. */
  | { kind: 'differs'; what: string };

/** The probe's `secret:<i>` answers (i over the probed secrets, in order), parsed. */
export function secretStates(
  secrets: readonly PlannedSecret[],
  answers: Readonly<Record<string, string>>,
  contents: readonly Buffer[],
  digestKey: string,
): SecretState[] {
  return secrets.map((secret, i): SecretState => {
    const answer = answers[String(i)];
    if (answer === undefined || answer === 'missing') return { kind: 'missing' };
    const [digest = '', owner = '', group = '', mode = ''] = answer.split(' ');
    const content = contents[i];
    if (!content || digest !== secretDigest(digestKey, content)) return { kind: 'differs', what: 'content differs' };
    if (owner !== secret.owner || group !== secret.group) return { kind: 'differs', what: `owner ${owner}:${group}, want ${secret.owner}:${secret.group}` };
    if (Number.parseInt(mode, 8) !== Number.parseInt(secret.mode, 8)) return { kind: 'differs', what: `mode ${mode.padStart(4, '0')}, want ${secret.mode}` };
    return { kind: 'in-place' };
  });
}

/** `name: why` for each secret not in place, for details and errors. */
export function describeOutOfPlace(secrets: readonly PlannedSecret[], states: readonly SecretState[]): string[] {
  return secrets.flatMap((secret, i) => {
    const state = states[i];
    if (!state || state.kind === 'in-place') return [];
    return [`${secret.name}: ${state.kind === 'missing' ? `missing (${secret.destination})` : state.what}`];
  });
}

/** Reads `missing-user=`/`missing-group=` lines of a refused upload. */
export function missingOwners(stdout: string): { users: string[]; groups: string[] } {
  const users: string[] = [];
  const groups: string[] = [];
  for (const line of stdout.split('\n')) {
    const user = /^missing-user=(.*)$/.exec(line);
    const group = /^missing-group=(.*)$/.exec(line);
    if (user?.[1]) users.push(user[1]);
    if (group?.[1]) groups.push(group[1]);
  }
  return { users, groups };
}

/** Exit status of SECRETS_PUSH_SCRIPT when an owner or group does not exist on the target. */
export const SECRETS_NO_OWNER = 3;

/** Exit status of SECRETS_PUSH_SCRIPT when a destination is a directory (or a link to one) on the target. */
export const SECRETS_DESTINATION_DIRECTORY = 4;

/** Reads `directory=` lines of a refused upload: destinations that are directories on the target. */
export function directoryDestinations(stdout: string): string[] {
  return stdout.split('\n').flatMap((line) => {
    const match = /^directory=(.+)$/.exec(line);
    return match?.[1] ? [match[1]] : [];
  });
}

/** Why an upload failed, as one line with a hint; undefined when it succeeded. */
export function secretUploadFailure(host: string, step: string, upload: SecretUpload, result: ExecResult, afterActivation: boolean): HostError | undefined {
  if (result.exitCode === 0) return undefined;
  if (result.exitCode === SECRETS_DESTINATION_DIRECTORY) {
    const directories = directoryDestinations(result.stdout);
    const affected = upload.secrets.filter((s) => directories.includes(s.destination));
    const written = result.stdout.split('\n').filter((line) => line.startsWith('wrote ')).map((line) => line.slice('wrote '.length));
    const which = affected.map((s) => `${s.name} (${s.destination})`).join(', ') || directories.join(', ');
    return new HostError(
      host,
      step,
      `secret ${which}: the destination is a directory on the target (or a link to one), not a file; ${written.length === 0 ? 'no secret was written' : `only ${written.join(', ')} written`}`,
      [],
      `a destination names the secret's file itself: set it to a path inside that directory (e.g. ${affected[0] ? `${affected[0].destination.replace(/\/+$/, '')}/${affected[0].name}` : '<directory>/<name>'})`,
    );
  }
  if (result.exitCode === SECRETS_NO_OWNER) {
    const { users, groups } = missingOwners(result.stdout);
    const lacking = [...users.map((u) => `user ${u}`), ...groups.map((g) => `group ${g}`)];
    const affected = upload.secrets.filter((s) => users.includes(s.owner) || groups.includes(s.group)).map((s) => s.name);
    return new HostError(
      host,
      step,
      `secret ${affected.join(', ')}: ${lacking.join(' and ')} ${lacking.length === 1 ? 'does' : 'do'} not exist on the target; no secret was written`,
      [],
      afterActivation
        ? 'the activated system does not create it either: fix owner or group of the secret in fleet.yaml'
        : 'if the new system creates it, set `upload: after-activation` on the secret',
    );
  }
  if (result.timedOut) return new HostError(host, step, 'uploading secrets: no answer in time (timed out)', tailLines(result));
  if (result.exitCode === SSH_FAILED) return new HostError(host, step, `uploading secrets: ${describeSshFailure(result.stderr)}`, tailLines(result));
  return new HostError(host, step, `uploading secrets failed (exit ${result.exitCode ?? result.signal})`, tailLines(result));
}

/**
 * After a reboot emptied /run/keys, as planned (`restore`): asks the host (its digest probe, with a
 * fresh digest key) which of its secrets are not in place and uploads those, before-activation ones
 * first. `contents` are the step's secrets read beforehand. Returns what it did, in a few words; a
 * HostError when it fails.
 */
export async function restoreSecrets(options: {
  host: string;
  restore: SecretRestore;
  /** Bounds each call: ssh's connect timeout and a minute. */
  timeoutMs: number;
  contents: readonly Buffer[];
  exec: Exec;
  signal?: AbortSignal;
  onLine?: (line: string) => void;
}): Promise<string> {
  const { host, restore, timeoutMs, contents, exec, signal } = options;
  const step = restore.upload;
  const digestKey = newDigestKey();
  const answer = await exec({ argv: resolveArgv(restore.digests.argv, { digestKey }), timeoutMs, signal });
  if (answer.exitCode !== 0) {
    const why = answer.exitCode === SSH_FAILED ? describeSshFailure(answer.stderr) : `the probe failed (exit ${answer.exitCode ?? answer.signal})`;
    throw new HostError(host, 'secrets', `cannot check its secrets: ${why}`, tailLines(answer));
  }
  const states = secretStates(step.secrets, parseProbe(answer.stdout, host).secrets, contents, digestKey);
  const uploaded: string[] = [];
  for (const [upload, after] of [
    [step.beforeActivation, false],
    [step.afterActivation, true],
  ] as const) {
    if (!upload) continue;
    const files = upload.secrets.flatMap((secret, index) => {
      const at = step.secrets.indexOf(secret);
      return states[at]?.kind === 'in-place' ? [] : [{ index, secret, content: contents[at] as Buffer }];
    });
    if (files.length === 0) continue;
    const stdin = pushSecretsInput(files);
    const result = await exec({
      argv: resolveArgv(upload.push.argv, {}),
      stdin,
      secrets: files.map((f) => f.content),
      timeoutMs,
      signal,
      onLine: (line) => options.onLine?.(line),
    }).finally(() => stdin.fill(0));
    const failure = secretUploadFailure(host, 'secrets', upload, result, after);
    if (failure) throw failure;
    uploaded.push(...files.map((f) => f.secret.name));
  }
  return uploaded.length === 0 ? 'secrets in place' : `secrets uploaded again: ${uploaded.join(', ')}`;
}
