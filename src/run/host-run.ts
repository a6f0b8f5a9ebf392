// One host's sequence: probe → push-keys → bootstrap → deploy → verify, each behind its guard.
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HostError } from '../errors.js';
import { tailLines, type Exec, type ExecResult } from '../exec/index.js';
import {
  acquireLock,
  activationVerdict,
  parseArmed,
  settleWatchdog,
  healthCheckBudgetMs,
  healthCheckDetail,
  type ArmedWatchdog,
  type HeldLock,
  addKnownHosts,
  describeSshFailure,
  isDeployed,
  keysToPush,
  knownHostsLines,
  parseProbe,
  provenNotNixos,
  resolveKeys,
  SSH_FAILED,
  stageBootstrapFiles,
  type HostBuild,
  type ProbeFacts,
  type ResolvedKeys,
} from '../backends/index.js';
import { pushKeysInput, resolveArgv, type HostPlan, type Plan, type PlannedCommand, type PlannedStep } from '../plan/index.js';
import { knownHostsName, knownKeysFor, sha256Fingerprint, sshControlExit } from '../ssh/index.js';
import type { HostOutcome, OutcomeKind, Phase, RunEvent, StepRecord } from './events.js';
import type { StepKind } from '../plan/index.js';
import type { HealthCheck } from '../manifest/inventory.js';

/** What a host run needs from the fleet-wide run. */
export interface HostRunContext {
  plan: Plan;
  exec: Exec;
  emit: (event: RunEvent) => void;
  /** Aborted on Ctrl-C: no new step starts; running processes get SIGINT. */
  signal: AbortSignal;
  /** Asks before wiping disks; undefined means only --yes gives consent. */
  confirmBootstrap?: (host: string, target: string) => Promise<boolean>;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  /** Only these steps run (lock and probe always do). */
  onlySteps?: StepKind[];
  /** Push keys whatever keys.push says. */
  forceKeyPush?: boolean;
}

/** A step that decided not to run. */
class Skip {
  constructor(readonly reason: string) {}
}

/** Ends the host early with this outcome (e.g. skipped for lack of consent). */
class EndHost extends Error {
  constructor(
    readonly kind: OutcomeKind,
    readonly step: Phase,
    readonly reason: string,
  ) {
    super(reason);
  }
}

export class HostRun {
  private readonly steps: StepRecord[] = [];
  private readonly startedAt: number;
  private changed = false;
  private facts?: ProbeFacts;
  private readonly notes: string[] = [];

  constructor(
    private readonly host: HostPlan,
    private readonly build: HostBuild,
    private readonly ctx: HostRunContext,
  ) {
    this.startedAt = ctx.now();
  }

  private get name(): string {
    return this.host.name;
  }

  private stepOf(kind: PlannedStep['kind']): PlannedStep {
    const step = this.host.steps.find((s) => s.kind === kind);
    if (!step) throw new Error(`plan for ${this.name} has no ${kind} step`);
    return step;
  }

  /** Runs a planned command with the run's refs filled in, streaming its lines as step output. */
  private async run(
    phase: Phase,
    command: PlannedCommand,
    extra: { stdin?: string; secrets?: string[]; timeoutMs?: number; quietStdout?: boolean } = {},
  ): Promise<ExecResult> {
    return this.ctx.exec({
      argv: resolveArgv(command.argv, { toplevel: this.build.toplevel, diskoScript: this.build.diskoScript }),
      env: command.env,
      stdin: extra.stdin,
      secrets: extra.secrets,
      timeoutMs: extra.timeoutMs,
      signal: this.ctx.signal,
      onLine: (line, stream) => {
        if (extra.quietStdout && stream === 'stdout') return;
        if (line.trim()) this.ctx.emit({ type: 'step-line', host: this.name, step: phase, line });
      },
    });
  }

  /** Wraps one step: events, timing, the step record; a thrown HostError fails it. */
  private async step<T>(phase: Phase, title: string, body: () => Promise<T | Skip>): Promise<T | undefined> {
    if (this.ctx.signal.aborted) throw new EndHost('skipped', phase, 'interrupted before this step');
    const startedAt = this.ctx.now();
    if (this.ctx.onlySteps && phase !== 'lock' && phase !== 'probe' && !this.ctx.onlySteps.includes(phase as StepKind)) {
      this.steps.push({ step: phase, status: 'skipped', detail: 'not requested', startedAt, finishedAt: startedAt });
      this.ctx.emit({ type: 'step-skip', host: this.name, step: phase, reason: 'not requested' });
      return undefined;
    }
    this.ctx.emit({ type: 'step-start', host: this.name, step: phase, title });
    try {
      const result = await body();
      const finishedAt = this.ctx.now();
      if (result instanceof Skip) {
        this.steps.push({ step: phase, status: 'skipped', detail: result.reason, startedAt, finishedAt });
        this.ctx.emit({ type: 'step-skip', host: this.name, step: phase, reason: result.reason });
        return undefined;
      }
      const detail = typeof result === 'string' ? result : phase === 'lock' ? 'held' : phase === 'probe' ? this.describeFacts() : 'done';
      this.steps.push({ step: phase, status: 'done', detail, startedAt, finishedAt });
      this.ctx.emit({ type: 'step-done', host: this.name, step: phase, detail });
      return result;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const finishedAt = this.ctx.now();
      if (error instanceof EndHost && error.kind === 'skipped') {
        this.steps.push({ step: phase, status: 'skipped', detail: reason, startedAt, finishedAt });
        this.ctx.emit({ type: 'step-skip', host: this.name, step: phase, reason });
      } else {
        this.steps.push({ step: phase, status: 'failed', detail: reason, startedAt, finishedAt });
        this.ctx.emit({ type: 'step-failed', host: this.name, step: phase, reason });
      }
      throw error;
    }
  }

  private note(level: 'info' | 'warn', message: string): void {
    this.notes.push(message);
    this.ctx.emit({ type: 'host-note', host: this.name, level, message });
  }

  /** Fails the step with ssh's own reason when ssh (not the remote command) failed. */
  private sshFailure(phase: Phase, result: ExecResult, what: string): HostError {
    const aborted = this.ctx.signal.aborted;
    if (aborted) return new HostError(this.name, phase, 'interrupted', tailLines(result));
    if (result.exitCode === SSH_FAILED) {
      return new HostError(this.name, phase, `${what}: ${describeSshFailure(result.stderr)}`, tailLines(result));
    }
    return new HostError(this.name, phase, `${what} failed (exit ${result.exitCode ?? result.signal})`, tailLines(result));
  }

  private async probe(phase: Phase, command: PlannedCommand): Promise<ProbeFacts> {
    // The probe's answer is data, not progress: only its stderr is shown.
    const result = await this.run(phase, command, { timeoutMs: 60_000, quietStdout: true });
    if (result.exitCode !== 0) throw this.sshFailure(phase, result, 'cannot reach the host');
    return parseProbe(result.stdout, this.name);
  }

  /** Runs the whole sequence and returns the outcome; never throws. */
  async execute(): Promise<HostOutcome> {
    this.ctx.emit({ type: 'host-start', host: this.name });
    let kind: OutcomeKind = 'unchanged';
    let step: Phase = 'probe';
    let reason = '';
    let tail: string[] = [];
    let hint: string | undefined;
    let lock: HeldLock | undefined;
    const trustedBefore = this.tofuKeys();
    try {
      if (this.host.lock) {
        step = 'lock';
        lock = await this.step('lock', 'deploy lock', () => acquireLock(this.name, this.host.lock as PlannedCommand, this.ctx.exec, this.ctx.signal));
      }
      step = 'probe';
      const facts = await this.step('probe', 'probe', async () => {
        // Set before the step records its detail, which describes these facts.
        this.facts = await this.probe('probe', this.host.probe);
        return this.facts;
      });
      this.facts = facts as ProbeFacts;
      if (trustedBefore && trustedBefore.length === 0) this.noteFirstUse();
      const bootstrapping = Boolean(this.host.spec.bootstrap) && provenNotNixos(this.facts);

      step = 'push-keys';
      const keys = await this.step('push-keys', 'push keys', () => this.pushKeys(bootstrapping));

      step = 'bootstrap';
      await this.step('bootstrap', 'bootstrap (nixos-anywhere)', () => this.bootstrap(bootstrapping, keys));

      step = 'deploy';
      await this.step('deploy', `deploy (${this.host.mode})`, () => this.deploy());

      step = 'verify';
      await this.step('verify', 'verify', () => this.verify());

      kind = this.host.mode === 'dry-activate' ? 'unchanged' : this.changed ? 'changed' : 'unchanged';
      reason =
        this.host.mode === 'dry-activate'
          ? 'dry-activate: nothing changed'
          : this.changed
            ? this.deployRequested()
              ? `${this.bootstrapped ? 'installed and ' : ''}deployed ${this.host.mode}`
              : this.bootstrapped
                ? 'installed'
                : 'keys pushed'
            : 'already up to date';
      if (this.notes.length > 0) reason += ` (${this.notes.join('; ')})`;
      step = this.steps.at(-1)?.step ?? step;
    } catch (error) {
      step = this.steps.at(-1)?.step ?? step;
      if (error instanceof EndHost) {
        kind = error.kind;
        reason = error.reason;
      } else if (error instanceof HostError) {
        const unreachable = (error.step === 'probe' || error.step === 'lock') && /cannot reach/.test(error.message);
        // Interrupted before anything on the target changed: skipped; once a tool that changes it
        // has started (keys, nixos-anywhere, nixos-rebuild), the host is not "skipped" but failed.
        kind = this.ctx.signal.aborted && !this.changed && !this.touched ? 'skipped' : unreachable ? 'unreachable' : 'failed';
        reason = error.message;
        tail = error.tail.slice(-20);
        hint = error.hint;
      } else {
        kind = 'failed';
        reason = error instanceof Error ? error.message : String(error);
      }
    } finally {
      await lock?.release();
      await this.closeConnection();
    }
    const outcome: HostOutcome = {
      host: this.name,
      kind,
      mode: this.host.mode,
      step,
      reason,
      storePath: this.build.toplevel,
      tail,
      ...(hint ? { hint } : {}),
      startedAt: this.startedAt,
      finishedAt: this.ctx.now(),
      steps: this.steps,
    };
    this.ctx.emit({ type: 'host-done', outcome });
    return outcome;
  }

  /** Whether this run deploys (fleet bootstrap and push-keys stop before). */
  private deployRequested(): boolean {
    return !this.ctx.onlySteps || this.ctx.onlySteps.includes('deploy');
  }

  /** With trustOnFirstUse: the keys fleet's TOFU known_hosts holds for this host now; else undefined. */
  private tofuKeys(): { type: string; key: string }[] | undefined {
    const ssh = this.host.ssh;
    if (!ssh?.trustOnFirstUse) return undefined;
    let text = '';
    try {
      text = readFileSync(ssh.knownHostsFiles[0] as string, 'utf8');
    } catch {
      // No file yet: nothing trusted yet.
    }
    return knownKeysFor(text, knownHostsName(ssh.endpoint));
  }

  /** ssh accepted a key this run (accept-new): say which, so the user can check it out of band. */
  private noteFirstUse(): void {
    for (const key of this.tofuKeys() ?? []) {
      this.note('info', `trusted on first use: ${key.type} ${sha256Fingerprint(key)}`);
    }
  }

  private bootstrapped = false;
  /** A tool that changes the target has started (it may have changed it even if it failed). */
  private touched = false;

  private async pushKeys(bootstrapping: boolean): Promise<string | Skip> {
    const planned = this.host.keys;
    if (!planned) return new Skip('no key policy');
    if (planned.push === 'never') return new Skip('keys.push is never');
    if (!bootstrapping && planned.push === 'bootstrap' && !this.ctx.forceKeyPush) {
      return new Skip('keys.push is bootstrap and the host is already installed');
    }
    const resolved = await resolveKeys(this.name, planned, this.ctx.exec, this.ctx.signal);
    this.resolvedKeys = resolved;
    if (resolved.generated) this.note('info', `generated host key ${resolved.hostKeyPath}`);
    if (resolved.hostPublicKey && this.host.target.kind === 'ssh') {
      // fleet pushes this key itself, so it is pinned for every later connection.
      addKnownHosts(this.ctx.plan.paths.knownHosts, knownHostsLines(this.host.target, [resolved.hostPublicKey]));
    }
    if (bootstrapping) {
      const staging = this.host.bootstrapStaging as string;
      stageBootstrapFiles(staging, planned.destination, resolved.files, this.host.spec.bootstrap?.extraFiles);
      return `staged ${resolved.files.length} key file(s) for nixos-anywhere --extra-files`;
    }
    const changed = keysToPush(resolved.files, this.facts?.keys ?? {});
    if (changed.length === 0) return new Skip('identical keys already on the target');
    const command = this.stepOf('push-keys').commands.find((c) => c.purpose === 'push keys') as PlannedCommand;
    this.touched = true;
    const result = await this.run('push-keys', command, {
      stdin: pushKeysInput(changed),
      secrets: changed.map((f) => f.content.toString('base64')),
      timeoutMs: 60_000,
    });
    if (result.exitCode !== 0) throw this.sshFailure('push-keys', result, 'pushing keys');
    return `pushed ${changed.map((f) => f.name).join(', ')} to ${planned.destination}`;
  }

  private resolvedKeys?: ResolvedKeys;

  private async bootstrap(bootstrapping: boolean, _keys: unknown): Promise<string | Skip> {
    const options = this.host.spec.bootstrap;
    if (!options) return new Skip('no bootstrap options');
    if (!bootstrapping) return new Skip('already NixOS — not bootstrapping');
    const target = this.host.target;
    if (target.kind !== 'ssh') return new Skip('a local target is never bootstrapped');
    const where = `${target.user}@${target.host}`;
    if (!this.ctx.plan.allowBootstrap) {
      const consent = this.ctx.confirmBootstrap ? await this.ctx.confirmBootstrap(this.name, where) : false;
      if (!consent) {
        throw new EndHost('skipped', 'bootstrap', `bootstrap wipes the disks of ${where}: not confirmed (run with --yes to allow it)`);
      }
    }
    const [anywhere, wait] = this.stepOf('bootstrap').commands as [PlannedCommand, PlannedCommand];
    this.touched = true;
    try {
      const result = await this.run('bootstrap', anywhere);
      if (result.exitCode !== 0) {
        throw new HostError(this.name, 'bootstrap', `nixos-anywhere failed (exit ${result.exitCode ?? result.signal})`, tailLines(result));
      }
    } finally {
      if (this.host.bootstrapStaging) rmSync(this.host.bootstrapStaging, { recursive: true, force: true });
    }
    this.bootstrapped = true;
    this.changed = true;
    await this.closeConnection();
    const facts = await this.waitForInstalled(wait, options.noReboot ? 0 : options.waitTimeout);
    this.facts = facts;
    return `installed ${this.build.toplevel}`;
  }

  /** Waits for the installed system to answer with the pushed host key and run the built system. */
  private async waitForInstalled(command: PlannedCommand, timeoutSeconds: number): Promise<ProbeFacts> {
    const pinned = this.pinInstalledKey(command);
    const deadline = this.ctx.now() + timeoutSeconds * 1000;
    let last: HostError | undefined;
    for (;;) {
      if (this.ctx.signal.aborted) throw new HostError(this.name, 'bootstrap', 'interrupted while waiting for the installed system');
      try {
        const facts = await this.probe('bootstrap', pinned);
        if (facts.current !== this.build.toplevel) {
          throw new HostError(this.name, 'bootstrap', `the host came back running ${facts.current || 'no system'}, not ${this.build.toplevel}`);
        }
        return facts;
      } catch (error) {
        if (!(error instanceof HostError)) throw error;
        last = error;
        if (!/cannot reach/.test(error.message) || this.ctx.now() >= deadline) break;
        await this.ctx.sleep(1000);
      }
    }
    throw new HostError(
      this.name,
      'bootstrap',
      `the installed system did not answer as expected within ${timeoutSeconds}s: ${last?.message ?? 'no answer'}`,
      last?.tail ?? [],
    );
  }

  /** The wait probe, with only the pushed host key pinned when fleet pushed one. */
  private pinInstalledKey(command: PlannedCommand): PlannedCommand {
    const publicKey = this.resolvedKeys?.hostPublicKey;
    if (!publicKey || this.host.target.kind !== 'ssh') return command;
    const file = join(this.ctx.plan.paths.runtimeDir, `known_hosts.${this.name}.installed`);
    writeFileSync(file, `${knownHostsLines(this.host.target, [publicKey]).join('\n')}\n`, { mode: 0o600 });
    // ssh keeps the first value of an option: this one wins over the shared known_hosts.
    const argv = [...command.argv];
    argv.splice(1, 0, '-o', `UserKnownHostsFile=${file}`, '-o', 'StrictHostKeyChecking=yes');
    return { ...command, argv };
  }

  private armed?: ArmedWatchdog;

  private describeFacts(): string {
    const facts = this.facts;
    if (!facts) return 'done';
    if (!facts.nixos && !facts.current) return 'not NixOS (bare)';
    return `NixOS, running ${facts.current || 'nothing'}${facts.generation !== undefined ? `, generation ${facts.generation}` : ''}`;
  }

  private command(kind: PlannedStep['kind'], purpose: string): PlannedCommand | undefined {
    return this.stepOf(kind).commands.find((c) => c.purpose === purpose);
  }

  /** Copies the closure first: a cut link fails here, before anything is activated. Bounded retries. */
  private async copyClosure(command: PlannedCommand): Promise<void> {
    const attempts = 3;
    for (let attempt = 1; ; attempt++) {
      const result = await this.run('deploy', command);
      if (result.exitCode === 0) return;
      if (this.ctx.signal.aborted) throw new HostError(this.name, 'deploy', 'interrupted while copying the closure', tailLines(result));
      if (attempt >= attempts) {
        const last = tailLines(result).at(-1) ?? `exit ${result.exitCode ?? result.signal}`;
        throw new HostError(this.name, 'deploy', `copying the closure failed after ${attempts} attempts: ${last}`, tailLines(result), 'nothing was activated; the host still runs its previous system');
      }
      this.ctx.emit({ type: 'step-line', host: this.name, step: 'deploy', line: `copy failed (attempt ${attempt} of ${attempts}), retrying` });
      await this.ctx.sleep(2000 * attempt);
    }
  }

  private async armWatchdog(command: PlannedCommand): Promise<void> {
    const id = randomBytes(8).toString('hex');
    const result = await this.ctx.exec({
      argv: resolveArgv(command.argv, { deployId: id }),
      signal: this.ctx.signal,
      timeoutMs: 60_000,
    });
    const armed = result.exitCode === 0 ? parseArmed(result.stdout) : undefined;
    if (!armed) throw this.sshFailure('deploy', result, 'arming the rollback watchdog (nothing was activated)');
    this.armed = { id, previous: armed.previous, deadline: this.ctx.now() + this.host.rollbackTimeout * 1000 };
    this.ctx.emit({ type: 'step-line', host: this.name, step: 'deploy', line: `rollback watchdog armed (${this.host.rollbackTimeout}s)` });
  }

  private async deploy(): Promise<string | Skip> {
    const facts = this.facts as ProbeFacts;
    const mode = this.host.mode;
    if (provenNotNixos(facts)) {
      throw new HostError(
        this.name,
        'deploy',
        'the target is not NixOS (no /etc/NIXOS, no /run/current-system) and has no bootstrap options: nothing to deploy onto',
        [],
        'add `bootstrap:` to the host to install NixOS with nixos-anywhere',
      );
    }
    if (!this.ctx.plan.force && isDeployed(mode, facts, this.build.toplevel)) {
      return new Skip(`already runs ${this.build.toplevel}`);
    }
    const copy = this.command('deploy', 'copy closure');
    if (copy) await this.copyClosure(copy);
    const arm = this.command('deploy', 'arm watchdog');
    if (arm) await this.armWatchdog(arm);
    const command = this.stepOf('deploy').commands.at(-1) as PlannedCommand;
    if (mode !== 'dry-activate') this.touched = true;
    const result = await this.run('deploy', command);
    const verdict = activationVerdict(result.exitCode, result.signal);
    if (verdict.kind === 'failed') {
      if (this.ctx.signal.aborted) {
        throw new HostError(this.name, 'deploy', `interrupted during nixos-rebuild${this.armed ? '; the watchdog rolls the host back unless it is confirmed' : ''}`, tailLines(result));
      }
      // A failed activation left the host reachable (or not): settle the watchdog either way.
      if (this.armed) await this.settleWatchdog('deploy');
      throw new HostError(this.name, 'deploy', `nixos-rebuild ${mode} failed (exit ${verdict.exitCode ?? verdict.signal})`, tailLines(result));
    }
    if (mode !== 'dry-activate') this.changed = true;
    if (verdict.kind === 'units-failed') {
      if (!this.host.spec.tolerateUnitFailures) {
        if (this.armed) await this.settleWatchdog('deploy');
        throw new HostError(this.name, 'deploy', 'activated, but some units failed (switch-to-configuration exit 4)', tailLines(result), 'set tolerateUnitFailures: true to accept this');
      }
      this.note('warn', 'some units failed (tolerated)');
    }
    if (verdict.kind === 'reboot-required') this.note('warn', 'reboot required to complete the activation');
    return `${mode} ${this.build.toplevel}`;
  }

  private async verify(): Promise<string | Skip> {
    const mode = this.host.mode;
    if (mode === 'dry-activate') return new Skip('dry-activate changes nothing');
    if (this.armed) await this.settleWatchdog('verify');
    const command = this.command('verify', 'verify') as PlannedCommand;
    const facts = await this.probe('verify', command);
    if (!isDeployed(mode, facts, this.build.toplevel)) {
      const seen = mode === 'boot' ? facts.profile : facts.current;
      throw new HostError(this.name, 'verify', `expected ${this.build.toplevel} as the ${mode === 'boot' ? 'boot default' : 'live system'}, found ${seen || 'nothing'}`);
    }
    const confirmed = this.watchdogConfirmed ? '; watchdog confirmed' : '';
    const checked = await this.runHealthChecks();
    if (mode === 'boot') return 'boot default is the built system';
    const reached = this.host.ssh ? 'reachable over a fresh connection, running' : 'running';
    return `${reached} the built system${confirmed}${checked}`;
  }

  /**
   * The manifest's health checks, one after the other, on the new live system. A failure fails the
   * host; the new system stays live (the watchdog guards reachability, not health).
   */
  private async runHealthChecks(): Promise<string> {
    const checks = this.host.spec.healthChecks;
    const planned = this.stepOf('verify').commands.filter((c) => c.purpose.startsWith('health check '));
    for (const [index, command] of planned.entries()) {
      const check = checks[index] as HealthCheck;
      const result = await this.run('verify', command, { timeoutMs: healthCheckBudgetMs(this.host.ssh, check) });
      if (result.exitCode === 0) continue;
      throw new HostError(
        this.name,
        'verify',
        `health check "${check.name}" failed (${healthCheckDetail(result, check, Boolean(this.host.ssh))}); the new system stays live`,
        tailLines(result),
        `fix it and deploy again, or return to the previous generation: fleet rollback ${this.name}`,
      );
    }
    return planned.length > 0 ? `; health checks passed (${checks.map((c) => c.name).join(', ')})` : '';
  }

  private watchdogConfirmed = false;

  /**
   * After activation: prove a brand-new connection works and confirm the watchdog; if no new
   * connection succeeds before the deadline, wait for the target to roll itself back and check.
   */
  private async settleWatchdog(phase: Phase): Promise<void> {
    const armed = this.armed as ArmedWatchdog;
    this.armed = undefined;
    const confirm = this.command('verify', 'confirm watchdog') as PlannedCommand;
    const check = this.command('verify', 'verify') as PlannedCommand;
    const settled = await settleWatchdog({
      host: this.name,
      armed,
      confirmArgv: resolveArgv(confirm.argv, { deployId: armed.id }),
      probeArgv: resolveArgv(check.argv, {}),
      exec: this.ctx.exec,
      now: this.ctx.now,
      sleep: this.ctx.sleep,
      signal: this.ctx.signal,
      onLost: (at, lastFailure) => {
        this.note('warn', `lost SSH after activation (${lastFailure}) — target rolls back at ${at}`);
        this.ctx.emit({ type: 'step-line', host: this.name, step: phase, line: `lost SSH after activation — target rolls back at ${at}` });
      },
    });
    if (settled.kind === 'confirmed') {
      this.watchdogConfirmed = true;
      return;
    }
    if (settled.kind === 'interrupted') throw new HostError(this.name, phase, settled.reason);
    throw new EndHost(settled.kind, phase, settled.reason);
  }


  /**
   * Retires the shared ssh master so no connection outlives the run (or a reboot). `stop`, not
   * `exit`: the master may be shared with another fleet run on this machine (same ControlPath), and
   * `exit` would cut that run's sessions, e.g. its nixos-rebuild mid-activation.
   */
  private async closeConnection(): Promise<void> {
    if (!this.host.ssh) return;
    await this.ctx.exec({ argv: sshControlExit(this.host.ssh, 'stop'), timeoutMs: 10_000 }).catch(() => undefined);
  }
}
