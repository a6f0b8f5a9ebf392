// fleet rollback: back to the previous (or a given) generation, with the SSH-loss watchdog for switch.
import { randomBytes } from 'node:crypto';
import { HostUnreachable } from '../errors.js';
import { tailLines, type Exec } from '../exec/index.js';
import { generationsCommand, resolveArgv, type PlannedCommand, type RollbackStep } from '../plan/index.js';
import type { SshSettings } from '../ssh/index.js';
import { activationVerdict } from './deploy.js';
import { parseGenerations, rollbackTarget, type GenerationList } from './generations.js';
import type { HistoryRecord } from './history.js';
import { acquireLock } from './lock.js';
import { parseProbe } from './probe.js';
import { describeSshFailure, SSH_FAILED } from './ssh-failure.js';
import { parseArmed, settleWatchdog } from './watchdog.js';

/** How a host's rollback ended (the same words as apply's outcomes). */
export interface RollbackResult {
  kind: 'changed' | 'unchanged' | 'failed' | 'rolled-back' | 'unreachable';
  step: 'lock' | 'probe' | 'deploy' | 'verify';
  reason: string;
  /** The generation it went to, and its system. */
  generation?: number;
  storePath?: string;
  /** The deploy-history record of the generation it went to (its revision is what runs now). */
  record?: HistoryRecord;
  tail: string[];
}

export interface RollbackOptions {
  host: string;
  ssh: SshSettings;
  exec: Exec;
  action: 'switch' | 'boot';
  /** The planned commands it runs (plan/rollback-commands.ts). */
  commands: RollbackStep;
  /** --to N; undefined = the generation before the boot default. */
  to?: number;
  /** Arm the watchdog (switch only): seconds, or undefined for none. */
  watchdogTimeout?: number;
  /** The deploy lock to hold meanwhile. */
  lock?: PlannedCommand;
  signal?: AbortSignal;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  onLine?: (line: string) => void;
}

/** Fetches and parses a host's generations; a string says why not. */
export async function listGenerations(
  ssh: SshSettings | undefined,
  exec: Exec,
  signal?: AbortSignal,
  command: PlannedCommand = { purpose: 'list generations', argv: generationsCommand(ssh) },
): Promise<GenerationList | { error: string; unreachable: boolean; tail: string[] }> {
  const run = await exec({ argv: resolveArgv(command.argv, {}), timeoutMs: 60_000, signal });
  if (run.exitCode !== 0) {
    const unreachable = Boolean(ssh) && run.exitCode === SSH_FAILED;
    return {
      error: unreachable ? `cannot reach the host: ${describeSshFailure(run.stderr)}` : `listing generations failed (exit ${run.exitCode ?? run.signal})`,
      unreachable,
      tail: tailLines(run),
    };
  }
  return parseGenerations(run.stdout) ?? { error: 'the generation listing was cut off', unreachable: false, tail: tailLines(run) };
}

/** Rolls one host back; never throws for a host's failure. */
export async function rollbackHost(options: RollbackOptions): Promise<RollbackResult> {
  const { host, ssh, exec, signal } = options;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const say = options.onLine ?? (() => undefined);
  const lock = options.lock ? await acquireLock(host, resolveArgv(options.lock.argv, {}), exec, signal ?? new AbortController().signal).catch((error: unknown) => error) : undefined;
  if (lock instanceof Error) return { kind: lock instanceof HostUnreachable ? 'unreachable' : 'failed', step: 'lock', reason: lock.message, tail: [] };
  try {
    const { commands } = options;
    const list = await listGenerations(ssh, exec, signal, commands.generations);
    if ('error' in list) return { kind: list.unreachable ? 'unreachable' : 'failed', step: 'probe', reason: list.error, tail: list.tail };
    const picked = rollbackTarget(list, options.to);
    if ('error' in picked) return { kind: 'failed', step: 'probe', reason: picked.error, tail: [] };
    const target = picked.generation;
    const done = options.action === 'switch' ? target.live && target.bootDefault : target.bootDefault;
    if (done) {
      return { kind: 'unchanged', step: 'probe', reason: `already on generation ${target.generation}`, generation: target.generation, storePath: target.storePath, tail: [] };
    }

    let armed: { id: string; previous: string; deadline: number } | undefined;
    if (commands.arm && options.watchdogTimeout !== undefined) {
      const id = randomBytes(8).toString('hex');
      const arm = await exec({ argv: resolveArgv(commands.arm.argv, { deployId: id }), timeoutMs: 60_000, signal });
      const answer = arm.exitCode === 0 ? parseArmed(arm.stdout) : undefined;
      if (!answer) {
        const why = arm.exitCode === SSH_FAILED ? describeSshFailure(arm.stderr) : `exit ${arm.exitCode ?? arm.signal}`;
        return { kind: 'failed', step: 'deploy', reason: `arming the rollback watchdog failed (${why}); nothing was changed`, tail: tailLines(arm) };
      }
      armed = { id, previous: answer.previous, deadline: now() + options.watchdogTimeout * 1000 };
      say(`rollback watchdog armed (${options.watchdogTimeout}s)`);
    }

    say(`switching the profile to generation ${target.generation} and running switch-to-configuration ${options.action}`);
    const run = await exec({
      argv: resolveArgv(commands.activate.argv, { generation: String(target.generation) }),
      signal,
      onLine: (line) => line.trim() && !line.startsWith('system=') && say(line),
    });
    const verdict = activationVerdict(run.exitCode, run.signal);
    let note = '';
    // The confirming connection also answers the probe: no second fresh connection for the check.
    let confirmedAnswer: string | undefined;
    if (armed && commands.confirm) {
      const settled = await settleWatchdog({
        host,
        armed,
        confirmArgv: resolveArgv(commands.confirm.argv, { deployId: armed.id }),
        probeArgv: resolveArgv(commands.check.argv, {}),
        exec,
        now,
        sleep,
        signal,
        onLost: (at) => say(`lost SSH after the rollback — target goes back at ${at}`),
      });
      // Interrupted while settling: the rollback ran, the watchdog decides; report it as failed.
      if (settled.kind !== 'confirmed') return { kind: settled.kind === 'interrupted' ? 'failed' : settled.kind, step: 'verify', reason: settled.reason, generation: target.generation, storePath: target.storePath, tail: tailLines(run) };
      note = '; watchdog confirmed';
      confirmedAnswer = settled.answer;
    }
    if (verdict.kind === 'failed') {
      return { kind: 'failed', step: 'deploy', reason: `rolling back to generation ${target.generation} failed (exit ${verdict.exitCode ?? verdict.signal})`, generation: target.generation, storePath: target.storePath, tail: tailLines(run) };
    }
    if (verdict.kind === 'units-failed') note += '; some units failed';
    if (verdict.kind === 'reboot-required') note += '; reboot required to complete';

    let answer = confirmedAnswer;
    if (answer === undefined) {
      const probe = await exec({ argv: resolveArgv(commands.check.argv, {}), timeoutMs: 60_000, signal });
      if (probe.exitCode !== 0) {
        return { kind: 'unreachable', step: 'verify', reason: `cannot reach the host after the rollback: ${describeSshFailure(probe.stderr)}`, generation: target.generation, storePath: target.storePath, tail: tailLines(probe) };
      }
      answer = probe.stdout;
    }
    const facts = parseProbe(answer, host);
    const ok = facts.profile === target.storePath && (options.action === 'boot' || facts.current === target.storePath);
    if (!ok) {
      const seen = options.action === 'boot' ? facts.profile : facts.current;
      return { kind: 'failed', step: 'verify', reason: `expected generation ${target.generation} (${target.storePath}), found ${seen || 'nothing'}`, generation: target.generation, storePath: target.storePath, tail: [] };
    }
    const what = options.action === 'boot' ? 'boot default' : 'live system and boot default';
    return {
      kind: 'changed',
      step: 'verify',
      reason: `generation ${target.generation} is the ${what}${note}`,
      generation: target.generation,
      storePath: target.storePath,
      ...(target.record ? { record: target.record } : {}),
      tail: [],
    };
  } finally {
    if (lock && !(lock instanceof Error)) await (lock as { release(): Promise<void> }).release();
  }
}
