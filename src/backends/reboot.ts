// fleet reboot: reboot a host, wait (bounded) for it to answer with a new boot id, check what it booted.
import type { Exec } from '../exec/index.js';
import { connectTimeoutOption, resolveArgv, type PlannedCommand, type RebootStep } from '../plan/index.js';
import { parseProbe, type ProbeFacts } from './probe.js';
import { describeSshFailure, SSH_FAILED } from './ssh-failure.js';
import { REBOOT_POLL_BACKOFF, retryDelayMs } from './backoff.js';

export interface RebootResult {
  kind: 'rebooted' | 'failed' | 'unreachable';
  /** One line: what happened or why not. */
  detail: string;
  bootIdBefore?: string;
  bootIdAfter?: string;
  /** The system it booted (/run/booted-system, else /run/current-system). */
  booted?: string;
  /** The boot default it should have booted. */
  bootDefault?: string;
}

export interface RebootOptions {
  /** The host's planned reboot: its commands and its bound (`waitSeconds`). */
  step: RebootStep;
  /** The host's name as its probe answers are checked against. */
  host: string;
  exec: Exec;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  signal?: AbortSignal;
  /** Progress lines ("rebooting", "waiting", "up"). */
  onLine?: (line: string) => void;
}

async function probeOnce(command: PlannedCommand, values: Record<string, string>, host: string, exec: Exec, timeoutMs: number, signal?: AbortSignal): Promise<ProbeFacts | string> {
  const run = await exec({ argv: resolveArgv(command.argv, values), timeoutMs, signal });
  if (run.exitCode !== 0) {
    if (run.timedOut) return 'no answer';
    return run.exitCode === SSH_FAILED ? describeSshFailure(run.stderr) : `probe failed (exit ${run.exitCode ?? run.signal})`;
  }
  try {
    return parseProbe(run.stdout, host);
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** The system a probe says was booted, and whether it is the boot default. */
export function bootedDefault(facts: Pick<ProbeFacts, 'booted' | 'current' | 'profile'>): { booted: string; ok: boolean } {
  const booted = facts.booted || facts.current;
  return { booted, ok: facts.profile === '' || booted === facts.profile };
}

/** Reboots one host and waits for it, as planned; never waits longer than `waitSeconds` after issuing the reboot. */
export async function rebootAndWait(options: RebootOptions): Promise<RebootResult> {
  const { step, host, exec, signal } = options;
  const connectTimeout = step.connectTimeoutSeconds;
  const waitSeconds = step.waitSeconds;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const say = options.onLine ?? (() => undefined);

  const before = await probeOnce(step.before, {}, host, exec, (connectTimeout + 30) * 1000, signal);
  if (typeof before === 'string') return { kind: 'unreachable', detail: `cannot reach the host: ${before}` };
  if (!before.bootId) return { kind: 'failed', detail: 'the host reports no boot id (/proc/sys/kernel/random/boot_id); cannot tell when it rebooted' };

  say(`rebooting (${before.systemd ? 'systemctl reboot' : 'reboot'}), boot id ${before.bootId}`);
  const issued = now();
  const deadline = issued + waitSeconds * 1000;
  const run = await exec({ argv: resolveArgv(step.reboot.argv, {}), timeoutMs: Math.min(30_000, waitSeconds * 1000), signal });
  // ssh may lose the connection while the host goes down (255); any other failure means no reboot.
  if (run.exitCode !== 0 && run.exitCode !== SSH_FAILED && !run.timedOut && run.signal === null) {
    return { kind: 'failed', detail: `the reboot command failed (exit ${run.exitCode})`, bootIdBefore: before.bootId };
  }

  say(`waiting up to ${waitSeconds}s for a new boot id`);
  let last = 'no answer yet';
  let poll = 0;
  while (now() < deadline) {
    if (signal?.aborted) return { kind: 'failed', detail: 'interrupted while waiting for the host', bootIdBefore: before.bootId };
    const remaining = deadline - now();
    const connect = Math.max(1, Math.min(connectTimeout, Math.floor(remaining / 1000)));
    const facts = await probeOnce(step.wait, { connectTimeout: connectTimeoutOption(connect) }, host, exec, Math.max(1000, remaining), signal);
    if (typeof facts === 'string') last = facts;
    else if (facts.bootId && facts.bootId !== before.bootId) {
      const { booted, ok } = bootedDefault(facts);
      const seconds = Math.round((now() - issued) / 1000);
      if (!ok) {
        return {
          kind: 'failed',
          detail: `came back after ${seconds}s running ${booted || 'nothing'}, not its boot default ${facts.profile}`,
          bootIdBefore: before.bootId,
          bootIdAfter: facts.bootId,
          booted,
          bootDefault: facts.profile,
        };
      }
      return {
        kind: 'rebooted',
        detail: `back after ${seconds}s on its boot default ${booted}`,
        bootIdBefore: before.bootId,
        bootIdAfter: facts.bootId,
        booted,
        bootDefault: facts.profile,
      };
    } else last = 'still the old boot id (not down yet)';
    await sleep(Math.min(retryDelayMs(poll++, REBOOT_POLL_BACKOFF), Math.max(0, deadline - now())));
  }
  return {
    kind: 'unreachable',
    detail: `did not come back with a new boot id within ${waitSeconds}s (${last})`,
    bootIdBefore: before.bootId,
  };
}
