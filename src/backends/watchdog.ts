// The rollback watchdog from fleet's side: reading the answers of the arm and confirm scripts run on
// the target, and settling it after a live activation (apply and rollback share this).
import { tailLines, type Exec } from '../exec/index.js';
import { parseProbe } from './probe.js';
import { describeSshFailure, SSH_FAILED } from './ssh-failure.js';
import { CONFIRM_BACKOFF, retryDelayMs } from './backoff.js';

export interface ArmedWatchdog {
  id: string;
  /** The live system when armed: what a rollback returns to. */
  previous: string;
  /** Local time (ms) after which the target rolls back on its own. */
  deadline: number;
}

export function parseArmed(stdout: string): { previous: string } | undefined {
  const previous = stdout.match(/^previous=(.+)$/m)?.[1];
  return stdout.includes('armed=') && previous ? { previous } : undefined;
}

export type ConfirmAnswer = { kind: 'confirmed' } | { kind: 'fired'; system: string } | { kind: 'unclear' };

export function parseConfirm(stdout: string): ConfirmAnswer {
  const fired = stdout.match(/^fired=(.*)$/m)?.[1];
  if (fired !== undefined) return { kind: 'fired', system: fired };
  if (/^confirmed$/m.test(stdout)) return { kind: 'confirmed' };
  return { kind: 'unclear' };
}

/** How a watchdog ended: confirmed over a fresh connection, or not (and what the host runs then). */
export type WatchdogSettlement =
  /** `answer`: the confirming call's output, which carries the probe's facts after `confirmed`. */
  | { kind: 'confirmed'; answer: string }
  | { kind: 'rolled-back' | 'failed' | 'unreachable' | 'interrupted'; reason: string };

/**
 * After a live activation: prove a brand-new connection works by confirming the watchdog, retrying
 * until shortly before its deadline: quickly at first (CONFIRM_BACKOFF), since sshd restarted by
 * the activation refuses connections only for a moment. If no new connection succeeds, say so (`onLost`), wait past
 * the deadline for the target to roll itself back, and check which system is live.
 */
export async function settleWatchdog(options: {
  host: string;
  armed: ArmedWatchdog;
  /** The confirm command for this deploy id, over a fresh connection. */
  confirmArgv: string[];
  /** A fresh-connection probe, to see what runs after the deadline. */
  probeArgv: string[];
  exec: Exec;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  signal?: AbortSignal;
  /** Called once when no fresh connection worked: the target rolls back at `rollbackAt` (HH:MM:SS, UTC). */
  onLost?: (rollbackAt: string, lastFailure: string) => void;
}): Promise<WatchdogSettlement> {
  const { armed, exec, now, sleep } = options;
  let lastFailure = '';
  let retry = 0;
  while (now() < armed.deadline - 2000) {
    if (options.signal?.aborted) return { kind: 'interrupted', reason: 'interrupted before the watchdog was confirmed; the target rolls back on its own' };
    const result = await exec({ argv: options.confirmArgv, timeoutMs: Math.max(5000, armed.deadline - now()) });
    if (result.exitCode === 0) {
      const answer = parseConfirm(result.stdout);
      if (answer.kind === 'confirmed') return { kind: 'confirmed', answer: result.stdout };
      if (answer.kind === 'fired') return { kind: 'rolled-back', reason: `the watchdog rolled the host back to ${answer.system} before it could be confirmed` };
    }
    lastFailure = result.exitCode === SSH_FAILED ? describeSshFailure(result.stderr) : (tailLines(result).at(-1) ?? `exit ${result.exitCode}`);
    await sleep(Math.max(0, Math.min(retryDelayMs(retry++, CONFIRM_BACKOFF), armed.deadline - 2000 - now())));
  }
  const at = new Date(armed.deadline).toISOString().slice(11, 19);
  options.onLost?.(at, lastFailure);
  await sleep(Math.max(0, armed.deadline - now()) + 5000);
  for (let attempt = 0; attempt < 10; attempt++) {
    const result = await exec({ argv: options.probeArgv, timeoutMs: 30_000 });
    if (result.exitCode === 0) {
      const facts = parseProbe(result.stdout, options.host);
      return facts.current === armed.previous
        ? { kind: 'rolled-back', reason: `lost SSH after activation; the target rolled back to ${armed.previous}` }
        : { kind: 'failed', reason: `lost SSH after activation, and the host now runs ${facts.current || 'nothing'} instead of ${armed.previous}` };
    }
    await sleep(3000);
  }
  return {
    kind: 'unreachable',
    reason:
      `lost SSH after activation (${lastFailure}) and the host did not come back after its rollback time (${at}); ` +
      'check it on its console, and roll back by hand with `nixos-rebuild switch --rollback` if needed',
  };
}
