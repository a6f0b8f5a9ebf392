// The bootstrap consent on a terminal, asked inside the live view: the view redraws many times
// a second, so a prompt written beside it would be erased; the question and what the user types are
// the bootstrap step's own output line instead.
import { emitKeypressEvents } from 'node:readline';
import type { RunEvent } from '../run/index.js';

export type AskConsent = (host: string, target: string) => Promise<boolean>;

/**
 * A consent function for runPlan: one question at a time (hosts reach bootstrap in parallel); the
 * answer is yes only when the user types the host's name and Enter. No terminal, or an interrupt
 * while waiting, answers no.
 */
export function consentInTree(emit: (event: RunEvent) => void, signal: AbortSignal, stdin: NodeJS.ReadStream = process.stdin): AskConsent {
  let queue: Promise<unknown> = Promise.resolve();
  return (host, target) => {
    const answer = queue.then(() => askOne(emit, signal, stdin, host, target));
    queue = answer.catch(() => undefined);
    return answer;
  };
}

function askOne(emit: (event: RunEvent) => void, signal: AbortSignal, stdin: NodeJS.ReadStream, host: string, target: string): Promise<boolean> {
  if (!stdin.isTTY || signal.aborted) return Promise.resolve(false);
  // Short: the tree cuts lines at the terminal's width, and what the user types comes last.
  const question = `WIPES DISKS of ${target}: type ${host} + Enter to confirm ›`;
  const show = (typed: string) => emit({ type: 'step-line', host, step: 'bootstrap', line: `${question} ${typed}` });
  return new Promise((resolve) => {
    let typed = '';
    const finish = (yes: boolean) => {
      stdin.off('keypress', onKey);
      signal.removeEventListener('abort', onAbort);
      stdin.setRawMode(false);
      stdin.pause();
      // A note, not a passing output line: it stays under the host, so the answer is on record.
      emit({ type: 'host-note', host, level: yes ? 'info' : 'warn', message: yes ? `bootstrap confirmed at the terminal` : 'bootstrap not confirmed' });
      resolve(yes);
    };
    const onAbort = () => finish(false);
    const onKey = (text: string | undefined, key: { name?: string; ctrl?: boolean; meta?: boolean } | undefined) => {
      // Raw mode turns Ctrl-C into a key: hand it back to fleet's SIGINT handling.
      if (key?.ctrl && key.name === 'c') {
        finish(false);
        process.kill(process.pid, 'SIGINT');
        return;
      }
      if (key?.name === 'return' || key?.name === 'enter') return finish(typed.trim() === host);
      if (key?.name === 'backspace') typed = typed.slice(0, -1);
      else if (text && text.length === 1 && text >= ' ' && !key?.ctrl && !key?.meta) typed += text;
      show(typed);
    };
    emitKeypressEvents(stdin);
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on('keypress', onKey);
    signal.addEventListener('abort', onAbort, { once: true });
    show('');
  });
}
