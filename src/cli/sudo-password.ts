// --ask-sudo-password / askSudoPassword: the password asked once per run on the terminal (never
// echoed) and handed to each privileged command's stdin by backends/sudo-password.ts.
import { openSync } from 'node:fs';
import { ReadStream, WriteStream } from 'node:tty';
import { withSudoPassword, type AskPasswordAgain } from '../backends/index.js';
import { UsageError } from '../errors.js';
import { execProcess, type Exec } from '../exec/index.js';
import type { HostPlan } from '../plan/index.js';
import { destination } from '../ssh/index.js';
import { EXIT } from './exit.js';

/** The selected hosts whose privileged commands take the password. */
export function hostsAskingPassword(hosts: readonly HostPlan[]): HostPlan[] {
  return hosts.filter((h) => h.escalation?.askPassword === true);
}

/** `admin@web1, admin@web2` (or `fleet on this machine` for a local target), as the prompt names them. */
export function passwordSubjects(hosts: readonly HostPlan[]): string {
  const names = [...new Set(hosts.map((h) => (h.target.kind === 'ssh' ? destination(h.target) : 'this machine')))];
  return names.length > 3 ? `${names.slice(0, 3).join(', ')} and ${names.length - 3} more` : names.join(', ');
}

/** The terminal fleet runs in (its controlling terminal), or a usage error: no one could answer. */
export function openTerminal(why: string): { input: ReadStream; output: WriteStream; close(): void } {
  let fd: number;
  try {
    fd = openSync('/dev/tty', 'r+');
  } catch {
    throw new UsageError(
      `${why}, and fleet has no terminal to ask on (no /dev/tty)`,
      'run it from a terminal; in CI give the deploy user passwordless sudo (NOPASSWD for the commands fleet runs) instead of a password',
    );
  }
  const input = new ReadStream(fd);
  // Raw (no echo) before any prompt is written: what is typed ahead of the read is not echoed either.
  input.setRawMode(true);
  const output = new WriteStream(fd);
  return {
    input,
    output,
    close() {
      input.setRawMode(false);
      input.destroy();
    },
  };
}

/**
 * Reads one line from a terminal in raw mode (no echo, as sudo's own prompt); Ctrl-D or an empty
 * line answer nothing. Ctrl-C (a key in raw mode) leaves with 130 before the run; during it,
 * `interrupted` hands it to fleet's own SIGINT handling and the question answers nothing.
 */
export function readHidden(input: ReadStream, interrupted?: () => void): Promise<string> {
  return new Promise((resolve) => {
    let typed = '';
    const onData = (chunk: Buffer) => {
      for (const char of chunk.toString('utf8')) {
        if (char === '\u0003') {
          input.setRawMode(false);
          if (!interrupted) process.exit(EXIT.interrupted);
          input.off('data', onData);
          input.pause();
          interrupted();
          resolve('');
          return;
        }
        if (char === '\r' || char === '\n' || char === '\u0004') {
          input.off('data', onData);
          input.pause();
          resolve(typed);
          return;
        }
        if (char === '\u007f' || char === '\b') typed = [...typed].slice(0, -1).join('');
        else if (char === '\u0015') typed = '';
        else if (char >= ' ') typed += char;
      }
    };
    input.on('data', onData);
    input.resume();
  });
}

/**
 * The Exec a run uses: `exec` itself where no selected host takes a password, else one that hands
 * the password fleet asks for now, once, on the terminal. Asked before anything runs, so no live
 * view is drawn over the prompt.
 */
export async function execWithSudoPassword(hosts: readonly HostPlan[], exec: Exec = execProcess, askAgain?: AskPasswordAgain): Promise<Exec> {
  const asking = hostsAskingPassword(hosts);
  if (asking.length === 0) return exec;
  const terminal = openTerminal('--ask-sudo-password (askSudoPassword) asks for the sudo password on the terminal');
  try {
    terminal.output.write(`[fleet] sudo password for ${passwordSubjects(asking)}: `);
    const password = await readHidden(terminal.input);
    terminal.output.write('\n');
    if (password === '') throw new UsageError('no sudo password given', 'type the password of the deploy user on the target, or leave out --ask-sudo-password');
    if (/[\n\r\0]/.test(password)) throw new UsageError('a sudo password with a line break cannot be handed to sudo on its stdin');
    return withSudoPassword(exec, password, askAgain);
  } finally {
    terminal.close();
  }
}

/**
 * Asks for a host's own password after its sudo refused the run's, one question at a time (hosts
 * run in parallel). With `show` (the live view, which redraws many times a second and would erase a
 * prompt beside it) the question is the host's own output line; else it is written to the terminal.
 * Enter alone gives up: that host fails and nothing on it was locked or changed.
 */
export function askAgainOnTerminal(hosts: readonly HostPlan[], signal: AbortSignal, show?: (host: string, line: string) => void): AskPasswordAgain {
  const names = new Map<string, string>();
  for (const h of hosts) names.set(h.target.kind === 'ssh' ? destination(h.target) : 'local', h.name);
  let queue: Promise<unknown> = Promise.resolve();
  return (subject) => {
    const answer = queue.then(async () => {
      if (signal.aborted) return undefined;
      const who = subject === 'local' ? 'this machine' : subject;
      const question = `sudo refused the password for ${who}: type its own (Enter gives up)`;
      const terminal = openTerminal('a sudo password was refused');
      try {
        const host = names.get(subject);
        if (show && host) show(host, `${question} ›`);
        else terminal.output.write(`[fleet] ${question}: `);
        const typed = await readHidden(terminal.input, () => process.kill(process.pid, 'SIGINT'));
        if (!(show && host)) terminal.output.write('\n');
        return typed === '' ? undefined : typed;
      } finally {
        terminal.close();
      }
    });
    queue = answer.catch(() => undefined);
    return answer;
  };
}
