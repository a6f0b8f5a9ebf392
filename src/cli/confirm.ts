// apply --confirm at a terminal: every host's diff, then one question (`apply to 8 hosts? [y/N]`),
// asked once every host has been built, copied and compared. The live view is set aside while it
// asks (a frame redrawn many times a second would erase the question) and a new one takes over
// for the hosts that go on.
import { createInterface } from 'node:readline';
import { UsageError } from '../errors.js';
import { formatDiffBlock } from '../report/index.js';
import type { AskConfirm, GateArrival, Reporter, RunEvent } from '../run/index.js';

/** --confirm without a terminal is a usage error, never a silent yes (CI, pipes). */
export function requireTerminalForConfirm(stdin: { isTTY?: boolean } = process.stdin): void {
  if (stdin.isTTY) return;
  throw new UsageError(
    '--confirm asks before activating, and stdin is not a terminal: no one could answer',
    'review the changes with `fleet diff` (or `fleet apply --diff`), then run `fleet apply` without --confirm',
  );
}

/** Hosts the answer is about: those whose deploy changes something (all of them with --force). */
export function hostsToApply(arrivals: readonly GateArrival[], force: boolean): GateArrival[] {
  return arrivals.filter((a) => force || a.diff.kind !== 'same');
}

/** `apply to 3 hosts? [y/N] ` */
export function confirmQuestion(count: number): string {
  return `apply to ${count} host${count === 1 ? '' : 's'}? [y/N] `;
}

/** y or yes (any case) is yes; anything else, an empty line included, is no. */
export function isYes(answer: string): boolean {
  return /^\s*y(es)?\s*$/i.test(answer);
}

export interface ConfirmOptions {
  /** Where the diffs and the question go (stdout; stderr with --json). */
  out: NodeJS.WritableStream;
  stdin?: NodeJS.ReadStream;
  signal: AbortSignal;
  /** --force: hosts without changes are activated again, so they count. */
  force: boolean;
  /** Called before anything is written (sets the live view aside). */
  before?: () => Promise<void>;
  /** Called with the answer before the hosts go on (a new live view for those that do). */
  after?: (yes: boolean, arrivals: readonly GateArrival[]) => void;
}

/** The one question for runPlan's confirm gate. An interrupt or end of input while it waits answers no. */
export function confirmAtTerminal(options: ConfirmOptions): AskConfirm {
  const stdin = options.stdin ?? process.stdin;
  return async (arrivals) => {
    if (options.signal.aborted) return false;
    const applying = hostsToApply(arrivals, options.force);
    if (applying.length === 0) {
      // Nothing would be activated: no question to ask.
      return true;
    }
    await options.before?.();
    const lines = ['', `what fleet apply changes on ${applying.length === arrivals.length ? 'each host' : `${applying.length} of ${arrivals.length} hosts`}:`];
    for (const a of arrivals) lines.push(...formatDiffBlock(a.host, a.diff));
    lines.push('');
    options.out.write(`${lines.join('\n')}\n${confirmQuestion(applying.length)}`);
    const yes = await readAnswer(stdin, options.signal);
    options.out.write(yes ? `confirmed: activating ${applying.length === 1 ? '1 host' : `${applying.length} hosts`}\n\n` : 'not confirmed: nothing is activated\n');
    options.after?.(yes, arrivals);
    return yes;
  };
}

/** One line from the terminal in its own line mode (it echoes; Ctrl-C stays fleet's SIGINT). */
function readAnswer(stdin: NodeJS.ReadStream, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: stdin, terminal: false });
    const finish = (yes: boolean) => {
      signal.removeEventListener('abort', onAbort);
      rl.removeAllListeners();
      rl.close();
      stdin.pause();
      resolve(yes);
    };
    const onAbort = () => finish(false);
    signal.addEventListener('abort', onAbort, { once: true });
    rl.once('line', (line) => finish(isYes(line)));
    rl.once('close', () => finish(false));
  });
}

/**
 * A reporter whose renderer can be set aside (closed, its last frame left on screen) and replaced;
 * events arriving in between are held and given to the next one.
 */
export class SwitchableReporter implements Reporter {
  private held?: RunEvent[];

  constructor(private inner: Reporter) {}

  emit(event: RunEvent): void {
    if (this.held) this.held.push(event);
    else this.inner.emit(event);
  }

  async setAside(): Promise<void> {
    if (this.held) return;
    this.held = [];
    await this.inner.close();
  }

  replace(next: Reporter): void {
    const held = this.held ?? [];
    this.held = undefined;
    this.inner = next;
    for (const event of held) next.emit(event);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
