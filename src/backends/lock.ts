// The per-host deploy lock: an ssh session holding flock on the target for the host's whole sequence.
import { PassThrough } from 'node:stream';
import { HostError, HostLocked, HostUnreachable } from '../errors.js';
import { tailLines, type Exec, type ExecResult } from '../exec/index.js';
import { describeSshFailure, SSH_FAILED } from './ssh-failure.js';
import { refusedPassword } from '../ssh/index.js';

/** A held lock; `release()` closes the session's stdin so the target drops the flock. */
export interface HeldLock {
  release(): Promise<void>;
  /** What the session printed after `locked`: the probe's answer, up to `end=ok`. */
  probeAnswer: string;
  /** Asks the held session whether a store path is valid on the target (its closure is there). */
  closure(storePath: string): Promise<'present' | 'absent'>;
  /**
   * Has the held session append one line to a history file (LOCK_SCRIPT's `!`): no session of its
   * own. Resolves `null` when written, else why not; never rejects.
   */
  appendHistory(file: string, line: string): Promise<string | null>;
}

/** How long a held session may take to say whether a closure is there (one nix-store call). */
const CLOSURE_ANSWER_MS = 60_000;

/** How long a held session may take to append to the history (it waits up to 30 s for the history's own lock). */
const HISTORY_ANSWER_MS = 60_000;

/** How often the held lock's session sends its heartbeat byte (well under LOCK_STALE_SECONDS). */
const HEARTBEAT_MS = 10_000;

/** Exit status of the lock script when another run holds the lock. */
export const LOCK_BUSY = 75;

/** A lock session being opened: the lock once held, and its closure questions, which may come first. */
export interface LockSession {
  /** Resolves once the session holds the lock and has answered the probe (rejects as acquireLock does). */
  held: Promise<HeldLock>;
  /**
   * Whether a store path's closure is on the target, asked once per path. It may be asked before the
   * lock is held: the question waits in the session's stdin and its answer follows the probe's.
   */
  closure(storePath: string): Promise<'present' | 'absent'>;
}

/**
 * Opens the lock session and waits until it holds the lock and has answered the probe, which the
 * same session runs right after taking the lock (one round trip). `argv` is the resolved command.
 */
export function acquireLock(host: string, argv: string[], exec: Exec, signal: AbortSignal, timeoutMs?: number): Promise<HeldLock> {
  return openLockSession(host, argv, exec, signal, timeoutMs).held;
}

/** Starts a lock session (see acquireLock) and answers closure questions over it. */
export function openLockSession(host: string, argv: string[], exec: Exec, signal: AbortSignal, timeoutMs?: number): LockSession {
  const stdin = new PassThrough();
  let onLocked: () => void = () => undefined;
  const locked = new Promise<'locked'>((resolve) => {
    onLocked = () => resolve('locked');
  });
  let answer: string[] | undefined;
  let probed = false;
  // Closure questions are answered in the order they were asked; so are history appends.
  const waiting: ((line: string) => void)[] = [];
  const appending: ((line: string) => void)[] = [];
  const session = exec({
    argv,
    stdin,
    signal,
    onLine: (line, stream) => {
      if (stream !== 'stdout') return;
      if (answer === undefined) {
        if (line.trim() === 'locked') answer = [];
        return;
      }
      if (probed) {
        if (line.startsWith('closure=')) waiting.shift()?.(line);
        else if (line.startsWith('history=')) appending.shift()?.(line);
        return;
      }
      answer.push(line);
      if (line === 'end=ok') {
        probed = true;
        onLocked();
      }
    },
  });
  /**
   * Writes a request to the held session and waits for its answer: the next line of its kind
   * (answers come in the order asked), or why none came. A late answer still takes its place.
   */
  const request = (text: string, queue: ((line: string) => void)[], timeoutMs: number): Promise<string | { none: 'timed out' | 'session ended' }> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => resolve({ none: 'timed out' }), timeoutMs);
      queue.push((line) => {
        clearTimeout(timer);
        resolve(line);
      });
      void session.then(() => {
        clearTimeout(timer);
        resolve({ none: 'session ended' });
      });
      if (!stdin.writableEnded) stdin.write(text);
    });
  const asked = new Map<string, Promise<'present' | 'absent'>>();
  const closure = (storePath: string): Promise<'present' | 'absent'> => {
    if (/[\n\0]/.test(storePath)) throw new Error(`not a store path: ${JSON.stringify(storePath)}`);
    let answered = asked.get(storePath);
    if (answered) return answered;
    answered = request(`?${storePath}\n`, waiting, CLOSURE_ANSWER_MS).then((line) => {
      if (typeof line === 'string') return line === 'closure=present' ? 'present' : 'absent';
      const why = line.none === 'timed out' ? 'did not say' : 'ended before it said';
      throw new HostError(host, 'lock', `the lock session ${why} whether the closure is on the target`, []);
    });
    // Asked ahead of need: a session that fails is reported by its lock step, not here.
    answered.catch(() => undefined);
    asked.set(storePath, answered);
    return answered;
  };
  const appendHistory = async (file: string, record: string): Promise<string | null> => {
    if (/[\n\0]/.test(file) || /[\n\0]/.test(record)) return 'a history file or record of more than one line';
    if (stdin.writableEnded) return 'the lock session has ended';
    const line = await request(`!${file}\n${record}\n`, appending, HISTORY_ANSWER_MS);
    if (typeof line !== 'string') return line.none === 'timed out' ? 'no answer in time (timed out)' : 'the lock session ended before the record was written';
    return line === 'history=recorded' ? null : line.replace(/^history=failed ?/, '') || 'failed';
  };
  const held = (async (): Promise<HeldLock> => {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timed-out'>((resolve) => {
      if (timeoutMs !== undefined) timer = setTimeout(() => resolve('timed-out'), timeoutMs);
    });
    const first = await Promise.race([locked, session, timedOut]).finally(() => clearTimeout(timer));
    if (first === 'timed-out') {
      stdin.end();
      throw new HostUnreachable(host, 'lock', `cannot reach the host: no answer within ${Math.round((timeoutMs ?? 0) / 1000)}s`, []);
    }
    if (first === 'locked') {
      // The target drops the lock after LOCK_STALE_SECONDS without a byte from us: keep it fed.
      const heartbeat = setInterval(() => stdin.write('.'), HEARTBEAT_MS);
      void session.finally(() => clearInterval(heartbeat));
      return {
        probeAnswer: (answer ?? []).join('\n'),
        closure,
        appendHistory,
        async release() {
          clearInterval(heartbeat);
          stdin.end();
          await Promise.race([session, new Promise((resolve) => setTimeout(resolve, 10_000))]);
        },
      };
    }
    stdin.end();
    throw lockFailure(host, first);
  })();
  return { held, closure };
}

function lockFailure(host: string, result: ExecResult): HostError {
  if (refusedPassword(result)) {
    // The wrapper refused before flock ran: this host is not locked, and nothing on it changed.
    return new HostError(host, 'lock', 'sudo refused the password: nothing was locked or changed', [], 'run again and type the right password (for this host alone: fleet apply --retry-failed --ask-sudo-password)');
  }
  if (result.exitCode === LOCK_BUSY) {
    const holder = result.stdout.match(/^busy=(.*)$/m)?.[1] ?? 'another run';
    return new HostLocked(host, holder);
  }
  if (result.exitCode === SSH_FAILED) {
    return new HostUnreachable(host, 'lock', `cannot reach the host: ${describeSshFailure(result.stderr)}`, tailLines(result));
  }
  return new HostError(host, 'lock', `could not take the deploy lock (exit ${result.exitCode ?? result.signal})`, tailLines(result));
}
