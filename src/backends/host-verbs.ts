// One host's deploy verbs (as colmena's `Host`): connect, push keys, install, copy, arm, activate,
// settle, verify, health-check — those that need the built system (a HostBuild), on top of the
// verbs every command shares (OperatingVerbs: run, probe, roll back, history, close). Each runs
// exactly the command the plan holds for it, over the one process port, and answers with typed
// results or a HostError naming the step. Sequencing and outcomes are the runner's
// (run/host-sequence.ts); nothing here decides what runs next.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HostError } from '../errors.js';
import { tailLines, type Exec } from '../exec/index.js';
import {
  ARM_TIMEOUT_SECONDS,
  pushKeysInput,
  resolveArgv,
  type ArmingActivateCommand,
  type HostPlan,
  type PlannedCommand,
  type PlannedHealthCheck,
  type PlannedSpecialisation,
  type SecretUpload,
  type WatchedActivation,
  pushSecretsInput,
} from '../plan/index.js';
import { knownHostsLines } from './known-hosts.js';
import { activationVerdict, type ActivationVerdict } from './deploy.js';
import { CopyProgress, narBytes, type Upload } from './copy-progress.js';
import { healthCheckFailure, runHealthCheck } from './health.js';
import type { KeyFile } from './keys.js';
import { acquireLock, openLockSession, type HeldLock, type LockSession } from './lock.js';
import { parseProbe, type ProbeFacts } from './probe.js';
import { parseArmed, settleWatchdog, type ArmedWatchdog, type WatchdogSettlement } from './watchdog.js';
import type { HostBuild } from './build.js';
import { SECRETS_DESTINATION_DIRECTORY, SECRETS_NO_OWNER, secretUploadFailure } from './secrets.js';
import { diffClosures, parseClosureListing, type ClosureDiff } from './closure-diff.js';
import { COPY_BACKOFF, retryDelayMs } from './backoff.js';
import { OperatingVerbs, PROBE_TIMEOUT_MS, type VerbContext, type VerbStep } from './operating-verbs.js';

export const ARM_TIMEOUT_MS = ARM_TIMEOUT_SECONDS * 1000;
export const PUSH_TIMEOUT_MS = 60_000;
/** Listing two closures is a few queries of the target's store database. */
export const DIFF_TIMEOUT_MS = 120_000;

/** The arming script's answer lines (see ARM_WATCHDOG_SCRIPT). */
const ARM_ANSWER = /^(armed|previous)=/;

/** What an activation did: switch-to-configuration's status read, its output's tail. */
export interface Activated {
  verdict: ActivationVerdict;
  tail: string[];
  timedOut: boolean;
}

/** ssh's own warning when nixos-anywhere's UserKnownHostsFile=/dev/null takes a key: not a fault. */
const KNOWN_HOSTS_NOISE = /^Warning: Permanently added .* to the list of known hosts\.?$/;

/** The result of connecting: the facts, and the held lock (ssh targets) to release at the end. */
export interface Connection {
  facts: ProbeFacts;
  release(): Promise<void>;
  /** Asks the held lock session whether a store path's closure is on the target (an early session). */
  closure?(storePath: string): Promise<'present' | 'absent'>;
  /** Has the held lock session append a line to a history file: `null` when written, else why not. */
  appendHistory?(file: string, line: string): Promise<string | null>;
}

/** The wait of a lock session: another run's lock, then ssh's connect timeout, then the probe. */
function lockTimeoutMs(host: HostPlan, waitSeconds: number): number {
  return (waitSeconds + (host.ssh?.connectTimeout ?? 10) + PROBE_TIMEOUT_MS / 1000) * 1000;
}

/**
 * Starts an early host's lock session when the run starts, before its system is evaluated (the
 * plan's lock command then has no <toplevel>): connection, lock and probe overlap the evaluation.
 */
export function lockEarly(host: HostPlan, exec: Exec, signal: AbortSignal, digestKey: string): LockSession | undefined {
  const connect = host.connect;
  if (connect.kind !== 'lock-and-probe' || !connect.early) return undefined;
  return openLockSession(host.name, resolveArgv(connect.command.argv, { digestKey }), exec, signal, lockTimeoutMs(host, connect.waitSeconds));
}

/** The verbs of `fleet apply` and the single-step commands: a deploy verb without a build does not type-check. */
export class HostVerbs extends OperatingVerbs {
  constructor(
    host: HostPlan,
    private readonly build: HostBuild,
    ctx: VerbContext,
  ) {
    super(host, ctx);
  }

  protected override values(extra: Record<string, string | readonly string[]> = {}): Record<string, string | readonly string[]> {
    return { toplevel: this.build.toplevel, digestKey: this.digestKey, ...(this.build.diskoScript ? { diskoScript: this.build.diskoScript } : {}), ...extra };
  }

  /** First contact: the lock and the probe in one session (ssh), or the probe alone (local); or the early lock session started with `lockEarly` (same digest key). */
  async connect(early?: Promise<HeldLock>): Promise<Connection> {
    const connect = this.host.connect;
    if (connect.kind === 'probe') {
      return { facts: await this.probe('probe', connect.command), release: async () => undefined };
    }
    const lock: HeldLock = await (early ??
      acquireLock(this.name, resolveArgv(connect.command.argv, this.values()), this.ctx.exec, this.ctx.signal, lockTimeoutMs(this.host, connect.waitSeconds)));
    try {
      return {
        facts: parseProbe(lock.probeAnswer, this.name),
        release: () => lock.release(),
        closure: (path) => lock.closure(path),
        appendHistory: (file, line) => lock.appendHistory(file, line),
      };
    } catch (error) {
      await lock.release();
      throw error;
    }
  }

  /** Writes key files on the target (content on stdin only, redacted from every line). */
  async pushKeys(command: PlannedCommand, files: readonly KeyFile[]): Promise<void> {
    const stdin = pushKeysInput(files);
    const result = await this.run('push-keys', command, {
      stdin,
      secrets: files.map((f) => f.content),
      timeoutMs: PUSH_TIMEOUT_MS,
    }).finally(() => stdin.fill(0));
    if (result.exitCode !== 0) throw this.failure('push-keys', result, 'pushing keys');
  }

  /**
   * Writes secret files on the target: contents on ssh's stdin only (never argv, environment or a
   * file here), redacted from every line. An owner or group the target lacks fails before anything
   * is written, with a hint to upload after activation.
   */
  async pushSecrets(upload: SecretUpload, files: readonly { index: number; content: Buffer }[], afterActivation: boolean): Promise<void> {
    const stdin = pushSecretsInput(files);
    const result = await this.run('secrets', upload.push, {
      stdin,
      secrets: files.map((f) => f.content),
      timeoutMs: PUSH_TIMEOUT_MS,
    }).finally(() => stdin.fill(0));
    if (result.exitCode === 0) return;
    if (result.exitCode === SECRETS_NO_OWNER || result.exitCode === SECRETS_DESTINATION_DIRECTORY) throw secretUploadFailure(this.name, 'secrets', upload, result, afterActivation);
    throw this.failure('secrets', result, 'uploading secrets');
  }

  /** nixos-anywhere; its ssh's known-hosts warnings go to the step log only. */
  async install(command: PlannedCommand): Promise<void> {
    const result = await this.run('bootstrap', command, { quiet: KNOWN_HOSTS_NOISE });
    if (result.exitCode !== 0) {
      const cause = tailLines(result).filter((l) => !KNOWN_HOSTS_NOISE.test(l));
      throw new HostError(this.name, 'bootstrap', `nixos-anywhere failed (exit ${result.exitCode ?? result.signal})${cause.at(-1) ? `: ${cause.at(-1)}` : ''}`, cause);
    }
  }

  /** The wait probe, with only the pushed host key pinned when fleet pushed one. */
  pinInstalledKey(command: PlannedCommand, publicKey: string | undefined, runtimeDir: string): PlannedCommand {
    if (!publicKey || this.host.target.kind !== 'ssh') return command;
    const file = join(runtimeDir, `known_hosts.${this.name}.installed`);
    writeFileSync(file, `${knownHostsLines(this.host.target, [publicKey]).join('\n')}\n`, { mode: 0o600 });
    // ssh keeps the first value of an option: this one wins over the shared known_hosts.
    const argv = [...command.argv];
    argv.splice(1, 0, '-o', `UserKnownHostsFile=${file}`, '-o', 'StrictHostKeyChecking=yes');
    return { ...command, argv };
  }

  /**
   * Copies the closure first: a cut link fails here, before anything is activated. A copy that
   * prints nothing for `idleSeconds` (nix prints a line per path) is killed. Bounded retries.
   */
  async copyClosure(command: PlannedCommand, idleSeconds: number, step: 'diff' | 'deploy' = 'deploy', attempts = 3): Promise<void> {
    const sent = new Set<string>();
    let copy = command;
    for (let attempt = 1; ; attempt++) {
      // Each attempt counts anew: nix asks the target again which paths it lacks.
      const progress = new CopyProgress();
      const watch = (line: string) => {
        if (progress.read(line)) this.ctx.onProgress?.(step, progress.copied, progress.total);
      };
      const result = await this.run(step, copy, { idleTimeoutMs: idleSeconds * 1000, watch });
      for (const path of progress.paths) sent.add(path);
      if (result.exitCode === 0) return this.countUpload([...sent]);
      if (this.ctx.signal.aborted) throw new HostError(this.name, step, 'interrupted while copying the closure; nothing was activated', tailLines(result));
      if (attempt >= attempts) {
        const last = result.stalled ? `no progress for ${idleSeconds}s (copyTimeout), killed` : (tailLines(result).at(-1) ?? `exit ${result.exitCode ?? result.signal}`);
        throw new HostError(this.name, step, `copying the closure failed after ${attempts} attempts: ${last}`, tailLines(result), 'nothing was activated; the host still runs its previous system');
      }
      this.ctx.onLine(step, `copy ${result.stalled ? `made no progress for ${idleSeconds}s` : 'failed'} (attempt ${attempt} of ${attempts}), retrying`);
      // The target's cache may be what failed it: the next tries upload everything from here.
      const fallback = this.host.copyFallback;
      if (fallback && copy !== fallback && !result.stalled) {
        copy = fallback;
        this.ctx.onLine(step, 'the next tries copy without substitution on the target (its binary cache may be unreachable): everything it lacks is uploaded from here');
      }
      await this.ctx.sleep(retryDelayMs(attempt - 1, COPY_BACKOFF));
    }
  }

  /** What the closure copies sent from this machine (absent: none ran). */
  uploaded?: Upload;

  /**
   * Adds what one copy sent to `uploaded`: its paths' NAR sizes from this machine's store (nix
   * copy prints no byte counts). Sizing is only a report: when it fails, the bytes stay unknown (0).
   */
  private async countUpload(paths: string[]): Promise<void> {
    const total = (this.uploaded ??= { paths: 0, bytes: 0 });
    total.paths += paths.length;
    const sizes = this.host.uploadSizes;
    if (paths.length === 0 || !sizes) return;
    const result = await this.ctx.exec({ argv: resolveArgv(sizes.argv, { uploadedPaths: paths }), timeoutMs: 60_000, signal: this.ctx.signal });
    total.bytes += (result.exitCode === 0 ? narBytes(result.stdout) : undefined) ?? 0;
  }

  /**
   * Lists, on the target, the closures of the system it runs and of the built one (which must be
   * there: copy it first), and compares them by package.
   */
  async diff(command: PlannedCommand): Promise<ClosureDiff> {
    const result = await this.run('diff', command, { timeoutMs: DIFF_TIMEOUT_MS, quietStdout: true });
    if (result.exitCode !== 0) throw this.failure('diff', result, 'listing the closures on the target');
    return diffClosures(parseClosureListing(result.stdout, this.name));
  }

  /**
   * Finds the specialisation in the built system on the target (its closure is there), before
   * anything is armed or activated: the store path the host then runs live, or a HostError naming
   * the host, the step, the specialisation and the ones the system has.
   */
  async findSpecialisation(planned: PlannedSpecialisation): Promise<string> {
    const result = await this.run('deploy', planned.find, { timeoutMs: PUSH_TIMEOUT_MS, quietStdout: true });
    if (result.exitCode !== 0) throw this.failure('deploy', result, `finding specialisation ${planned.name} (nothing was activated)`);
    const answer = new Map(result.stdout.split('\n').map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] as const));
    const path = answer.get('specialisation');
    if (path?.startsWith('/')) return path;
    const available = answer.get('available')?.trim();
    throw new HostError(
      this.name,
      'deploy',
      `specialisation ${planned.name} not found in ${this.build.toplevel} (no specialisation/${planned.name}/bin/switch-to-configuration); nothing was activated`,
      tailLines(result),
      available ? `the built system has: ${available.split(/\s+/).join(', ')}` : 'the built system has no specialisations: check specialisation.<name> in its configuration, or the name',
    );
  }

  /** Arms the rollback watchdog on the target before a live activation, by its own call. */
  async arm(command: PlannedCommand, watchdogSeconds: number): Promise<ArmedWatchdog> {
    const id = randomBytes(8).toString('hex');
    const result = await this.run('deploy', command, { deployId: id, timeoutMs: ARM_TIMEOUT_MS, quietStdout: true });
    const armed = result.exitCode === 0 ? parseArmed(result.stdout) : undefined;
    if (!armed) throw this.failure('deploy', result, 'arming the rollback watchdog (nothing was activated)');
    this.ctx.onLine('deploy', `rollback watchdog armed (${watchdogSeconds}s)`);
    return { id, previous: armed.previous, deadline: this.ctx.now() + watchdogSeconds * 1000 };
  }

  /** Activates the built system; what switch-to-configuration's status means, and the output's tail. */
  async activate(command: PlannedCommand, timeoutSeconds: number): Promise<Activated> {
    const result = await this.run('deploy', command, { timeoutMs: timeoutSeconds * 1000 });
    return { verdict: activationVerdict(result.exitCode, result.signal), tail: tailLines(result), timedOut: result.timedOut };
  }

  /**
   * Arms the watchdog and activates in one call on the target (the bash flavour). Without the
   * arming's answer nothing was activated: the same failure as a separate arming call's.
   */
  async armAndActivate(command: ArmingActivateCommand, watchdogSeconds: number, timeoutSeconds: number): Promise<Activated & { armed: ArmedWatchdog }> {
    const id = randomBytes(8).toString('hex');
    const startedAt = this.ctx.now();
    let armedAt: number | undefined;
    const result = await this.run('deploy', command, {
      deployId: id,
      timeoutMs: timeoutSeconds * 1000,
      // The arming's answer goes to the step log; the activation's output is shown as ever.
      quiet: ARM_ANSWER,
      watch: (line) => {
        if (armedAt !== undefined || !line.startsWith('armed=')) return;
        armedAt = this.ctx.now();
        this.ctx.onLine('deploy', `rollback watchdog armed (${watchdogSeconds}s)`);
      },
    });
    const armed = parseArmed(result.stdout);
    if (!armed) throw this.failure('deploy', result, 'arming the rollback watchdog (nothing was activated)');
    return {
      armed: { id, previous: armed.previous, deadline: (armedAt ?? startedAt) + watchdogSeconds * 1000 },
      verdict: activationVerdict(result.exitCode, result.signal),
      tail: tailLines(result).filter((line) => !ARM_ANSWER.test(line)),
      timedOut: result.timedOut,
    };
  }

  /**
   * After a live activation: one brand-new connection confirms the watchdog and reports what runs;
   * if none succeeds before the deadline, wait for the target to roll itself back and look.
   */
  async settle(activation: WatchedActivation, armed: ArmedWatchdog, step: VerbStep, onLost: (at: string, lastFailure: string) => void): Promise<WatchdogSettlement> {
    return settleWatchdog({
      host: this.name,
      armed,
      confirmArgv: resolveArgv(activation.confirm.argv, this.values({ deployId: armed.id })),
      probeArgv: resolveArgv(activation.afterDeadline.argv, this.values()),
      exec: this.ctx.exec,
      now: this.ctx.now,
      sleep: this.ctx.sleep,
      signal: this.ctx.signal,
      onLost: (at, lastFailure) => {
        this.ctx.onLine(step, `lost SSH after activation — target rolls back at ${at}`);
        onLost(at, lastFailure);
      },
    });
  }

  /** One manifest health check on the target (the path `fleet check` takes too); HealthCheckFailed when it fails. */
  async healthCheck(planned: PlannedHealthCheck): Promise<void> {
    const { result, tail } = await runHealthCheck(this.host.ssh, planned, this.ctx.exec, { signal: this.ctx.signal, now: this.ctx.now, onLine: (line) => this.ctx.onLine('verify', line) });
    if (!result.ok) throw healthCheckFailure(this.name, result, tail);
  }
}
