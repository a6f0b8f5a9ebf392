// One host's verbs (as colmena's `Host`): connect, push keys, install, copy, arm, activate, settle,
// verify, health-check, close. Each runs exactly the command the plan holds for it, over the one
// process port, and answers with typed results or a HostError naming the step. Sequencing and
// outcomes are the runner's (run/host-run.ts); nothing here decides what runs next.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HostError } from '../errors.js';
import { tailLines, type Exec, type ExecResult } from '../exec/index.js';
import {
  pushKeysInput,
  resolveArgv,
  type HostPlan,
  type PlannedCommand,
  type PlannedHealthCheck,
  type PlannedSecret,
  type SecretUpload,
  type WatchedActivation,
  pushSecretsInput,
} from '../plan/index.js';
import { knownHostsLines } from './known-hosts.js';
import { sshControlExit } from '../ssh/index.js';
import { activationVerdict, type ActivationVerdict } from './deploy.js';
import { CopyProgress } from './copy-progress.js';
import { HealthCheckFailed, healthCheckBudgetMs, healthCheckDetail } from './health.js';
import type { KeyFile } from './keys.js';
import { acquireLock, type HeldLock } from './lock.js';
import { parseProbe, type ProbeFacts } from './probe.js';
import { describeSshFailure, SSH_FAILED } from './ssh-failure.js';
import { parseArmed, settleWatchdog, type ArmedWatchdog, type WatchdogSettlement } from './watchdog.js';
import type { HostBuild } from './build.js';
import { appendHistory, type HistoryRecord, type HistoryWrite } from './history.js';
import { newDigestKey, SECRETS_NO_OWNER, secretRedactions, secretStates, secretUploadFailure, type SecretState } from './secrets.js';
import { diffClosures, parseClosureListing, type ClosureDiff } from './closure-diff.js';
import { rollbackHost, type RollbackResult } from './rollback.js';
import { freshKexFor } from './fresh-kex.js';

/** The step a verb belongs to, for errors and progress lines. */
export type VerbStep = 'lock' | 'probe' | 'diff' | 'push-keys' | 'bootstrap' | 'secrets' | 'deploy' | 'verify' | 'rollback';

export interface VerbContext {
  exec: Exec;
  signal: AbortSignal;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  /** A line of a tool's output (already redacted), for the live view and the step log. */
  onLine: (step: VerbStep, line: string) => void;
  /** A line for the step log only (noise the user need not see, e.g. nixos-anywhere's ssh warnings). */
  onQuietLine?: (step: VerbStep, line: string) => void;
  /** How far a step got (the closure copy: paths copied of the paths to copy). */
  onProgress?: (step: VerbStep, done: number, total: number) => void;
}

/** Bounds of the remote steps that have none of their own (issue: a stalled step must not hang a run). */
export const PROBE_TIMEOUT_MS = 60_000;
export const ARM_TIMEOUT_MS = 60_000;
export const PUSH_TIMEOUT_MS = 60_000;
/** Listing two closures is a few queries of the target's store database. */
export const DIFF_TIMEOUT_MS = 120_000;

/** ssh's own warning when nixos-anywhere's UserKnownHostsFile=/dev/null takes a key: not a fault. */
const KNOWN_HOSTS_NOISE = /^Warning: Permanently added .* to the list of known hosts\.?$/;

/** The result of connecting: the facts, and the held lock (ssh targets) to release at the end. */
export interface Connection {
  facts: ProbeFacts;
  release(): Promise<void>;
}

export class HostVerbs {
  /** The key of this run's secret digests on this host (see PROBE_FUNCTION): random, not secret. */
  readonly digestKey = newDigestKey();

  constructor(
    private readonly host: HostPlan,
    private readonly build: HostBuild,
    private readonly ctx: VerbContext,
  ) {}

  private get name(): string {
    return this.host.name;
  }

  private values(extra: Record<string, string | readonly string[]> = {}): Record<string, string | readonly string[]> {
    return { toplevel: this.build.toplevel, digestKey: this.digestKey, ...(this.build.diskoScript ? { diskoScript: this.build.diskoScript } : {}), ...extra };
  }

  /** The fresh connection's key exchange words (ssh/kex.ts), read once with `ssh -G`. */
  private freshKex?: Promise<string[]>;

  /**
   * Starts reading ssh's effective key exchange for the fresh connection after activation, so that
   * it overlaps the copy and the activation instead of delaying the confirmation.
   */
  prepareFreshConnection(activation: WatchedActivation): void {
    this.freshKex ??= freshKexFor(resolveArgv(activation.confirm.argv, this.values({ deployId: 'x', freshKex: [] })), this.ctx.exec);
  }

  /** Runs a planned command with the run's refs filled in, streaming its lines. */
  run(
    step: VerbStep,
    command: PlannedCommand,
    extra: { stdin?: string; secrets?: string[]; timeoutMs?: number; idleTimeoutMs?: number; quietStdout?: boolean; deployId?: string; quiet?: RegExp; watch?: (line: string) => void } = {},
  ): Promise<ExecResult> {
    return this.ctx.exec({
      idleTimeoutMs: extra.idleTimeoutMs,
      argv: resolveArgv(command.argv, this.values(extra.deployId ? { deployId: extra.deployId } : {})),
      env: command.env,
      stdin: extra.stdin,
      secrets: extra.secrets,
      timeoutMs: extra.timeoutMs,
      signal: this.ctx.signal,
      onLine: (line, stream) => {
        if (extra.quietStdout && stream === 'stdout') return;
        if (!line.trim()) return;
        extra.watch?.(line);
        if (extra.quiet?.test(line)) this.ctx.onQuietLine?.(step, line);
        else this.ctx.onLine(step, line);
      },
    });
  }

  /** Fails a step with ssh's own reason when ssh (not the remote command) failed. */
  failure(step: VerbStep, result: ExecResult, what: string): HostError {
    if (this.ctx.signal.aborted) return new HostError(this.name, step, 'interrupted', tailLines(result));
    if (result.timedOut) return new HostError(this.name, step, `${what}: no answer in time (timed out)`, tailLines(result));
    if (result.exitCode === SSH_FAILED && this.host.ssh) {
      return new HostError(this.name, step, `${what}: ${describeSshFailure(result.stderr)}`, tailLines(result));
    }
    return new HostError(this.name, step, `${what} failed (exit ${result.exitCode ?? result.signal})`, tailLines(result));
  }

  /** A probe whose answer is data: only its stderr is shown. */
  async probe(step: VerbStep, command: PlannedCommand): Promise<ProbeFacts> {
    const result = await this.run(step, command, { timeoutMs: PROBE_TIMEOUT_MS, quietStdout: true });
    if (result.exitCode !== 0) throw this.failure(step, result, 'cannot reach the host');
    return parseProbe(result.stdout, this.name);
  }

  /** First contact: the lock and the probe in one session (ssh), or the probe alone (local). */
  async connect(): Promise<Connection> {
    const connect = this.host.connect;
    if (connect.kind === 'probe') {
      return { facts: await this.probe('probe', connect.command), release: async () => undefined };
    }
    const lock: HeldLock = await acquireLock(
      this.name,
      resolveArgv(connect.command.argv, this.values()),
      this.ctx.exec,
      this.ctx.signal,
      (connect.waitSeconds + (this.host.ssh?.connectTimeout ?? 10) + PROBE_TIMEOUT_MS / 1000) * 1000,
    );
    try {
      return { facts: parseProbe(lock.probeAnswer, this.name), release: () => lock.release() };
    } catch (error) {
      await lock.release();
      throw error;
    }
  }

  /** Writes key files on the target (content on stdin only, redacted from every line). */
  async pushKeys(command: PlannedCommand, files: readonly KeyFile[]): Promise<void> {
    const result = await this.run('push-keys', command, {
      stdin: pushKeysInput(files),
      secrets: files.map((f) => f.content.toString('base64')),
      timeoutMs: PUSH_TIMEOUT_MS,
    });
    if (result.exitCode !== 0) throw this.failure('push-keys', result, 'pushing keys');
  }

  /**
   * The digest check: how each secret stands on the target, from a probe's keyed digests (asked
   * with this run's digest key) and the contents read here. Nothing of a secret leaves this machine.
   */
  secretStates(secrets: readonly PlannedSecret[], answers: Readonly<Record<string, string>>, contents: readonly Buffer[]): SecretState[] {
    return secretStates(secrets, answers, contents, this.digestKey);
  }

  /**
   * Writes secret files on the target: contents on ssh's stdin only (never argv, environment or a
   * file here), redacted from every line. An owner or group the target lacks fails before anything
   * is written, with a hint to upload after activation.
   */
  async pushSecrets(upload: SecretUpload, files: readonly { index: number; content: Buffer }[], afterActivation: boolean): Promise<void> {
    const result = await this.run('secrets', upload.push, {
      stdin: pushSecretsInput(files),
      secrets: secretRedactions(files.map((f) => f.content)),
      timeoutMs: PUSH_TIMEOUT_MS,
    });
    if (result.exitCode === 0) return;
    if (result.exitCode === SECRETS_NO_OWNER) throw secretUploadFailure(this.name, 'secrets', upload, result, afterActivation);
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
    for (let attempt = 1; ; attempt++) {
      // Each attempt counts anew: nix asks the target again which paths it lacks.
      const progress = new CopyProgress();
      const watch = (line: string) => {
        if (progress.read(line)) this.ctx.onProgress?.(step, progress.copied, progress.total);
      };
      const result = await this.run(step, command, { idleTimeoutMs: idleSeconds * 1000, watch });
      if (result.exitCode === 0) return;
      if (this.ctx.signal.aborted) throw new HostError(this.name, step, 'interrupted while copying the closure; nothing was activated', tailLines(result));
      if (attempt >= attempts) {
        const last = result.stalled ? `no progress for ${idleSeconds}s (copyTimeout), killed` : (tailLines(result).at(-1) ?? `exit ${result.exitCode ?? result.signal}`);
        throw new HostError(this.name, step, `copying the closure failed after ${attempts} attempts: ${last}`, tailLines(result), 'nothing was activated; the host still runs its previous system');
      }
      this.ctx.onLine(step, `copy ${result.stalled ? `made no progress for ${idleSeconds}s` : 'failed'} (attempt ${attempt} of ${attempts}), retrying`);
      await this.ctx.sleep(2000 * attempt);
    }
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

  /** Arms the rollback watchdog on the target before a live activation. */
  async arm(activation: WatchedActivation): Promise<ArmedWatchdog> {
    const id = randomBytes(8).toString('hex');
    const result = await this.run('deploy', activation.arm, { deployId: id, timeoutMs: ARM_TIMEOUT_MS, quietStdout: true });
    const armed = result.exitCode === 0 ? parseArmed(result.stdout) : undefined;
    if (!armed) throw this.failure('deploy', result, 'arming the rollback watchdog (nothing was activated)');
    this.ctx.onLine('deploy', `rollback watchdog armed (${activation.timeoutSeconds}s)`);
    return { id, previous: armed.previous, deadline: this.ctx.now() + activation.timeoutSeconds * 1000 };
  }

  /** Activates the built system; what switch-to-configuration's status means, and the output's tail. */
  async activate(command: PlannedCommand, timeoutSeconds: number): Promise<{ verdict: ActivationVerdict; tail: string[]; timedOut: boolean }> {
    const result = await this.run('deploy', command, { timeoutMs: timeoutSeconds * 1000 });
    return { verdict: activationVerdict(result.exitCode, result.signal), tail: tailLines(result), timedOut: result.timedOut };
  }

  /**
   * After a live activation: one brand-new connection confirms the watchdog and reports what runs;
   * if none succeeds before the deadline, wait for the target to roll itself back and look.
   */
  async settle(activation: WatchedActivation, armed: ArmedWatchdog, step: VerbStep, onLost: (at: string, lastFailure: string) => void): Promise<WatchdogSettlement> {
    this.prepareFreshConnection(activation);
    const freshKex = (await this.freshKex) ?? [];
    return settleWatchdog({
      host: this.name,
      armed,
      confirmArgv: resolveArgv(activation.confirm.argv, this.values({ deployId: armed.id, freshKex })),
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

  /** One manifest health check on the target; a HostError when it fails. */
  async healthCheck(planned: PlannedHealthCheck): Promise<void> {
    const { check, command } = planned;
    const result = await this.run('verify', command, { timeoutMs: healthCheckBudgetMs(this.host.ssh, check) });
    if (result.exitCode === 0) return;
    throw new HealthCheckFailed(
      this.name,
      check.name,
      `health check "${check.name}" failed (${healthCheckDetail(result, check, Boolean(this.host.ssh))}); the new system stays live`,
      tailLines(result),
      `fix it and deploy again, or return to the previous generation: fleet rollback ${this.name}`,
    );
  }

  /**
   * Appends a record to the host's deploy history. Not bound to the run's Ctrl-C: it runs only
   * after a verified change, which it records (bounded by its own timeout). Never throws.
   */
  appendHistory(command: PlannedCommand, record: HistoryRecord): Promise<HistoryWrite> {
    return appendHistory(command, record, this.ctx.exec, {
      sshTarget: Boolean(this.host.ssh),
      onLine: (line) => this.ctx.onQuietLine?.('verify', line),
    });
  }

  /**
   * Back to generation `to` as `fleet rollback --to` does it (the deploy lock of the plan's first
   * contact held meanwhile, the watchdog armed for a switch): a rollout's failing wave.
   */
  async rollBack(to: number, action: 'switch' | 'boot'): Promise<RollbackResult> {
    const connect = this.host.connect;
    if (!this.host.ssh || connect.kind !== 'lock-and-probe') {
      return { kind: 'failed', step: 'probe', reason: 'rolling back works over ssh only (a local target is not rolled back)', tail: [] };
    }
    return rollbackHost({
      host: this.name,
      ssh: this.host.ssh,
      exec: this.ctx.exec,
      action,
      to,
      watchdogTimeout: action === 'switch' ? (this.host.watchdogSeconds ?? undefined) : undefined,
      lock: { ...connect.command, argv: resolveArgv(connect.command.argv, this.values()) },
      signal: this.ctx.signal,
      now: this.ctx.now,
      sleep: this.ctx.sleep,
      onLine: (line) => this.ctx.onLine('rollback', line),
    });
  }

  /**
   * Retires the shared ssh master so no connection outlives the run (or a reboot). `stop`, not
   * `exit`: the master may be shared with another fleet run on this machine (same ControlPath), and
   * `exit` would cut that run's sessions, e.g. its nixos-rebuild mid-activation.
   */
  async close(): Promise<void> {
    if (!this.host.ssh) return;
    await this.ctx.exec({ argv: sshControlExit(this.host.ssh, 'stop'), timeoutMs: 10_000 }).catch(() => undefined);
  }
}
