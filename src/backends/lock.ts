// The per-host deploy lock: an ssh session holding flock on the target for the host's whole sequence.
import { PassThrough } from 'node:stream';
import { HostError } from '../errors.js';
import { tailLines, type Exec, type ExecResult } from '../exec/index.js';
import { resolveArgv, type PlannedCommand } from '../plan/index.js';
import { describeSshFailure, SSH_FAILED } from './ssh-failure.js';

/** A held lock; `release()` closes the session's stdin so the target drops the flock. */
export interface HeldLock {
  release(): Promise<void>;
}

/** How often the held lock's session sends its heartbeat byte (well under LOCK_STALE_SECONDS). */
const HEARTBEAT_MS = 10_000;

/** Exit status of the lock script when another run holds the lock. */
export const LOCK_BUSY = 75;

export async function acquireLock(host: string, command: PlannedCommand, exec: Exec, signal: AbortSignal): Promise<HeldLock> {
  const stdin = new PassThrough();
  let onLocked: () => void = () => undefined;
  const locked = new Promise<'locked'>((resolve) => {
    onLocked = () => resolve('locked');
  });
  const session = exec({
    argv: resolveArgv(command.argv, {}),
    stdin,
    signal,
    onLine: (line) => {
      if (line.trim() === 'locked') onLocked();
    },
  });
  const first = await Promise.race([locked, session]);
  if (first === 'locked') {
    // The target drops the lock after LOCK_STALE_SECONDS without a byte from us: keep it fed.
    const heartbeat = setInterval(() => stdin.write('.'), HEARTBEAT_MS);
    void session.finally(() => clearInterval(heartbeat));
    return {
      async release() {
        clearInterval(heartbeat);
        stdin.end();
        await Promise.race([session, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      },
    };
  }
  stdin.end();
  throw lockFailure(host, first);
}

function lockFailure(host: string, result: ExecResult): HostError {
  if (result.exitCode === LOCK_BUSY) {
    const holder = result.stdout.match(/^busy=(.*)$/m)?.[1] ?? 'another run';
    return new HostError(host, 'lock', `locked by ${holder}`, [], 'another fleet run is deploying this host; wait for it, or raise --lock-timeout');
  }
  if (result.exitCode === SSH_FAILED) {
    return new HostError(host, 'lock', `cannot reach the host: ${describeSshFailure(result.stderr)}`, tailLines(result));
  }
  return new HostError(host, 'lock', `could not take the deploy lock (exit ${result.exitCode ?? result.signal})`, tailLines(result));
}
