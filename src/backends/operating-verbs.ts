// The verbs of one host that need no built system: the operating commands' (status probe, vitals
// and health checks, a user's command, generations, reboot, restore secrets, roll back, history)
// and the ones apply shares (run a planned command, probe, append history, close). An ssh host or
// the local machine behind them. Each answers with typed results or a HostError naming the step;
// nothing here decides what runs next. The deploy verbs (HostVerbs) extend these with a HostBuild.
import { HostError, HostUnreachable, Interrupted, StepTimedOut } from '../errors.js';
import { tailLines, type Exec, type ExecResult } from '../exec/index.js';
import {
  execCommand,
  historyCommand,
  interactiveSshCommand,
  resolveArgv,
  rollbackCommands,
  statusProbeCommand,
  userCommandArgv,
  type HostPlan,
  type PlannedCommand,
  type PlannedHealthCheck,
  type PlannedSecret,
  type RebootStep,
  type RollbackStep,
  type SecretRestore,
} from '../plan/index.js';
import { sshControlExit } from '../ssh/index.js';
import { listGenerations, rollbackHost, type RollbackResult } from './rollback.js';
import type { GenerationList } from './generations.js';
import { parseVitals, runHealthChecks, vitalsProblems, type HealthCheckResult, type HostVitals } from './health.js';
import { appendHistory, parseHistoryLines, prefixedLines, readHistory, type HistoryRecord, type HistoryWrite, type HostHistory } from './history.js';
import { parseProbe, type ProbeFacts } from './probe.js';
import { rebootAndWait, type RebootResult } from './reboot.js';
import { newDigestKey, restoreSecrets, secretStates, type SecretState } from './secrets.js';
import { describeSshFailure, SSH_FAILED } from './ssh-failure.js';

/** The step a verb belongs to, for errors and progress lines. */
export type VerbStep =
  | 'lock'
  | 'probe'
  | 'diff'
  | 'push-keys'
  | 'bootstrap'
  | 'secrets'
  | 'deploy'
  | 'verify'
  | 'rollback'
  // The operating commands' own steps.
  | 'status'
  | 'check'
  | 'exec'
  | 'reboot';

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
  /** This run's digest key for the host, when a session that uses it started before its verbs (an early lock). */
  digestKey?: string;
}

/** Bounds of the remote steps that have none of their own (issue: a stalled step must not hang a run). */
export const PROBE_TIMEOUT_MS = 60_000;
/** A status probe or the vitals script: ssh's connect timeout plus this. */
export const OPERATE_ANSWER_SECONDS = 30;

/** A host that could not be reached (ssh failed, or no answer in time): `fleet status` says `unreachable`. */
export { HostUnreachable } from '../errors.js';

/** What `fleet status` learns of a host in one round trip. */
export interface StatusProbe {
  facts: ProbeFacts;
  /** The newest deploy-history record of the live system, if fleet wrote one. */
  record?: HistoryRecord;
}

/** How a user's command ended on one host (`fleet exec`). */
export interface CommandRun {
  /** null when the command did not finish (killed, timed out). */
  exitCode: number | null;
  /** ssh itself failed (exit 255 with ssh's own message). */
  sshFailed: boolean;
  stdout: string;
  stderr: string;
  /** stdout and stderr lines as they arrived. */
  output: string[];
}

export class OperatingVerbs {
  /** The key of this run's secret digests on this host (see PROBE_FUNCTION): random, not secret. */
  readonly digestKey: string;

  constructor(
    protected readonly host: HostPlan,
    protected readonly ctx: VerbContext,
  ) {
    this.digestKey = ctx.digestKey ?? newDigestKey();
  }

  protected get name(): string {
    return this.host.name;
  }

  /** The run-time refs of planned commands (`{digestKey}`, and the deploy verbs' own). */
  protected values(extra: Record<string, string | readonly string[]> = {}): Record<string, string | readonly string[]> {
    return { digestKey: this.digestKey, ...extra };
  }

  /** Runs a planned command with the run's refs filled in, streaming its lines. */
  run(
    step: VerbStep,
    command: PlannedCommand,
    extra: { stdin?: string | Buffer; secrets?: readonly Buffer[]; timeoutMs?: number; idleTimeoutMs?: number; quietStdout?: boolean; deployId?: string; quiet?: RegExp; watch?: (line: string) => void } = {},
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
    if (this.ctx.signal.aborted) return new Interrupted(this.name, step, 'interrupted', tailLines(result));
    if (result.timedOut) return new StepTimedOut(this.name, step, `${what}: no answer in time (timed out)`, tailLines(result));
    if (result.exitCode === SSH_FAILED && this.host.ssh) {
      return new HostUnreachable(this.name, step, `${what}: ${describeSshFailure(result.stderr)}`, tailLines(result));
    }
    return new HostError(this.name, step, `${what} failed (exit ${result.exitCode ?? result.signal})`, tailLines(result));
  }

  /** A probe whose answer is data: only its stderr is shown. */
  async probe(step: VerbStep, command: PlannedCommand): Promise<ProbeFacts> {
    const result = await this.run(step, command, { timeoutMs: PROBE_TIMEOUT_MS, quietStdout: true });
    if (result.exitCode === 0) return parseProbe(result.stdout, this.name);
    const failure = this.failure(step, result, 'cannot reach the host');
    // A probe that gets no answer in time did not reach the host.
    throw failure instanceof StepTimedOut ? new HostUnreachable(this.name, step, failure.message, failure.tail) : failure;
  }

  /**
   * The digest check: how each secret stands on the target, from a probe's keyed digests (asked
   * with this verbs' digest key) and the contents read here. Nothing of a secret leaves this machine.
   */
  secretStates(secrets: readonly PlannedSecret[], answers: Readonly<Record<string, string>>, contents: readonly Buffer[]): SecretState[] {
    return secretStates(secrets, answers, contents, this.digestKey);
  }

  /** How long an operating command's one round trip may take: ssh's connect timeout and 30 s. */
  private answerBudgetMs(): number {
    return ((this.host.ssh?.connectTimeout ?? 0) + OPERATE_ANSWER_SECONDS) * 1000;
  }

  /**
   * `fleet status`'s probe: what runs and boots, the history record of the live system and, for
   * the given secret destinations, their digests keyed with `digestKey` (compare with `secretStates`).
   * An unreachable host throws HostUnreachable; a failing probe a HostError.
   */
  async statusProbe(secretDestinations: readonly string[]): Promise<StatusProbe> {
    const command = statusProbeCommand(this.host.ssh, { closure: false, keyDir: '/etc/ssh', keyNames: [], secrets: [...secretDestinations] });
    const run = await this.ctx.exec({ argv: resolveArgv(command.argv, this.values()), timeoutMs: this.answerBudgetMs(), signal: this.ctx.signal });
    if (run.exitCode !== 0) {
      const why = this.host.ssh && run.exitCode === SSH_FAILED ? describeSshFailure(run.stderr) : run.timedOut ? 'no answer' : `probe failed (exit ${run.exitCode ?? run.signal})`;
      if (run.exitCode === SSH_FAILED || run.timedOut) throw new HostUnreachable(this.name, 'status', why, tailLines(run));
      throw new HostError(this.name, 'status', why, tailLines(run));
    }
    const facts = parseProbe(run.stdout, this.name);
    const record = parseHistoryLines(prefixedLines(run.stdout, 'history')).records.filter((r) => r.system === facts.current).at(-1);
    return { facts, ...(record ? { record } : {}) };
  }

  /** The host's vitals (load, uptime, failed units, free disk) from the planned vitals script, and what is wrong with them. */
  async vitals(command: PlannedCommand): Promise<{ vitals: HostVitals; problems: string[] }> {
    const run = await this.ctx.exec({ argv: resolveArgv(command.argv, {}), timeoutMs: this.answerBudgetMs(), signal: this.ctx.signal });
    if (run.exitCode !== 0) {
      if (this.host.ssh && run.exitCode === SSH_FAILED) throw new HostUnreachable(this.name, 'check', `cannot reach the host: ${describeSshFailure(run.stderr)}`, tailLines(run));
      throw new HostError(this.name, 'check', `the check script failed (exit ${run.exitCode ?? run.signal})`, tailLines(run));
    }
    const vitals = parseVitals(run.stdout);
    if (!vitals) throw new HostError(this.name, 'check', 'the check script gave an incomplete answer', tailLines(run));
    return { vitals, problems: vitalsProblems(vitals) };
  }

  /** The planned health checks of the host, one after the other, each bounded by its own timeout. */
  healthChecks(checks: readonly PlannedHealthCheck[]): Promise<HealthCheckResult[]> {
    return runHealthChecks(
      this.host.ssh,
      checks,
      this.ctx.exec,
      { signal: this.ctx.signal, now: this.ctx.now },
    );
  }

  /**
   * A user's command (`fleet exec`), as the ssh user over a fresh connection, or here for the
   * local machine; every line is passed on as it arrives. Its exit code is data, not a failure.
   */
  async runCommand(command: readonly string[], timeoutSeconds?: number): Promise<CommandRun> {
    const output: string[] = [];
    const argv = this.host.ssh ? execCommand(this.host.ssh, command) : userCommandArgv(command);
    const run = await this.ctx.exec({
      argv,
      signal: this.ctx.signal,
      timeoutMs: timeoutSeconds ? timeoutSeconds * 1000 : undefined,
      onLine: (line) => {
        output.push(line);
        this.ctx.onLine('exec', line);
      },
    });
    // ssh's own reason is already among the lines (its stderr).
    const sshFailed = Boolean(this.host.ssh) && run.exitCode === SSH_FAILED;
    return { exitCode: run.exitCode, sshFailed, stdout: run.stdout, stderr: run.stderr, output };
  }

  /** `fleet ssh`: a login shell or one command on the user's terminal; ssh's exit code. */
  async interactive(command: readonly string[]): Promise<number> {
    if (!this.host.ssh) throw new HostError(this.name, 'exec', `${this.name} is the local machine: there is nothing to ssh into`);
    const run = await this.ctx.exec({ argv: interactiveSshCommand(this.host.ssh, command), inheritStdio: true });
    return run.exitCode ?? SSH_FAILED;
  }

  /** The host's system generations, which is live and which boots next, with their history records. */
  async generations(): Promise<GenerationList> {
    const list = await listGenerations(this.host.ssh, this.ctx.exec, this.ctx.signal);
    if (!('error' in list)) return list;
    if (list.unreachable) throw new HostUnreachable(this.name, 'probe', list.error, list.tail);
    throw new HostError(this.name, 'probe', list.error, list.tail);
  }

  /** The host's deploy history as fleet recorded it (oldest first), and how many lines were unreadable. */
  async history(): Promise<HostHistory> {
    const history = await readHistory(historyCommand(this.host.ssh), this.ctx.exec, { sshTarget: Boolean(this.host.ssh), signal: this.ctx.signal });
    if (!('error' in history)) return history;
    if (history.unreachable) throw new HostUnreachable(this.name, 'probe', history.error, history.tail);
    throw new HostError(this.name, 'probe', history.error, history.tail);
  }

  /** Reboots the host as planned and waits (at most `step.waitSeconds`) for a new boot id on its boot default. */
  rebootAndWait(step: RebootStep): Promise<RebootResult> {
    if (!this.host.ssh) throw new HostError(this.name, 'reboot', `${this.name} is the local machine: fleet will not reboot the machine it runs on`);
    return rebootAndWait({
      step,
      host: this.name,
      exec: this.ctx.exec,
      signal: this.ctx.signal,
      now: this.ctx.now,
      sleep: this.ctx.sleep,
      onLine: (line) => this.ctx.onLine('reboot', line),
    });
  }

  /** Uploads again, as planned, the secrets that are not in place (after a reboot emptied /run/keys); what it did. */
  restoreSecrets(restore: SecretRestore, contents: readonly Buffer[], progressStep: VerbStep = 'secrets'): Promise<string> {
    if (!this.host.ssh) throw new HostError(this.name, 'secrets', 'restoring secrets works over ssh only');
    return restoreSecrets({
      host: this.name,
      restore,
      timeoutMs: (this.host.ssh.connectTimeout + 60) * 1000,
      contents,
      exec: this.ctx.exec,
      signal: this.ctx.signal,
      onLine: (line) => this.ctx.onLine(progressStep, line),
    });
  }

  /**
   * Back to generation `to` (undefined: the one before the boot default), the deploy lock held
   * meanwhile (`lock`, else the plan's first contact), the watchdog armed for a switch. The verb
   * of `fleet rollback` and of a rollout's failing wave. Never throws for the host's failure.
   */
  async rollBack(to: number | undefined, action: 'switch' | 'boot', lock?: PlannedCommand, planned?: RollbackStep): Promise<RollbackResult> {
    const connect = this.host.connect;
    const held = lock ?? (connect.kind === 'lock-and-probe' ? connect.command : undefined);
    if (!this.host.ssh || !held) {
      return { kind: 'failed', step: 'probe', reason: 'rolling back works over ssh only (a local target is not rolled back)', tail: [] };
    }
    const watchdogTimeout = action === 'switch' ? (this.host.watchdogSeconds ?? undefined) : undefined;
    return rollbackHost({
      host: this.name,
      ssh: this.host.ssh,
      exec: this.ctx.exec,
      action,
      // The plan's (a rollout's), or the same commands made for `fleet rollback` now.
      commands: planned ?? rollbackCommands(this.host.ssh, action, watchdogTimeout, 'fleet rollback'),
      to,
      watchdogTimeout,
      lock: { ...held, argv: resolveArgv(held.argv, this.values()) },
      signal: this.ctx.signal,
      now: this.ctx.now,
      sleep: this.ctx.sleep,
      onLine: (line) => this.ctx.onLine('rollback', line),
    });
  }

  /**
   * Appends a record to the host's deploy history. Not bound to the run's Ctrl-C: it runs only
   * after a verified change, which it records (bounded by its own timeout). Never throws.
   * `step`: where its lines go; the step log only unless `visible`.
   */
  appendHistory(command: PlannedCommand, record: HistoryRecord, step: VerbStep = 'verify', visible = false): Promise<HistoryWrite> {
    return appendHistory(command, record, this.ctx.exec, {
      sshTarget: Boolean(this.host.ssh),
      onLine: (line) => (visible ? this.ctx.onLine(step, line) : this.ctx.onQuietLine?.(step, line)),
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
