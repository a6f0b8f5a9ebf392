// The run's sudo password, handed to each privileged command on its stdin ahead of its own input.
import { PassThrough, Readable } from 'node:stream';
import type { Exec, ExecRequest, ExecResult } from '../exec/index.js';
import { passwordHead, PASSWORD_REFUSED_LINE, refusedPassword, takesPassword } from '../ssh/index.js';

/**
 * Asks for another password for one ssh destination (`user@host`, or `local`) whose sudo refused
 * the one it was given; undefined: give up (that host fails).
 */
export type AskPasswordAgain = (subject: string) => Promise<string | undefined>;

/** Prompts per destination after a refusal before its host fails (sudo itself allows three tries). */
const MAX_PROMPTS = 2;

/**
 * An Exec that gives every command running the password wrapper (ssh/escalation.ts, built only by
 * plan/ for hosts with askSudoPassword) the password first on its stdin, and redacts the password
 * from every command's output. The password never reaches an argv, an environment or a file.
 * One password for every host; where a host's sudo refuses it, `askAgain` (if given) asks for that
 * host's own and the command runs again with it, its stdin replayed from the start.
 */
export function withSudoPassword(exec: Exec, password: string, askAgain?: AskPasswordAgain): Exec {
  if (/[\n\r\0]/.test(password)) throw new Error('a sudo password cannot hold a line break or NUL');
  const own = new Map<string, string>();
  const prompts = new Map<string, number>();
  // exec/ redacts bytes; the password came as a string from the prompt, so its bytes are made here.
  const known = () => [password, ...own.values()].map((p) => Buffer.from(p));
  return async (request) => {
    if (!takesPassword(request.argv) || request.inheritStdio || request.noStdio) return exec({ ...request, secrets: [...(request.secrets ?? []), ...known()] });
    const subject = subjectOf(request.argv);
    const input = replayable(request.stdin);
    for (;;) {
      const given = own.get(subject) ?? password;
      const result = await exec({ ...request, secrets: [...(request.secrets ?? []), ...known()], stdin: input.withHead(passwordHead(given)) });
      if (!refusedPassword(result)) return result;
      // The wrapper's own line is the reason; sudo's complaints it kept to itself.
      const refused: ExecResult = { ...result, stderr: `${PASSWORD_REFUSED_LINE}\n` };
      if (request.signal?.aborted) return refused;
      // Another command of this host may have been given a new password meanwhile: use that one.
      const newer = own.get(subject);
      if (newer !== undefined && newer !== given) continue;
      const asked = prompts.get(subject) ?? 0;
      if (!askAgain || asked >= MAX_PROMPTS) return refused;
      prompts.set(subject, asked + 1);
      const again = await askAgain(subject);
      if (again === undefined || again === '' || /[\n\r\0]/.test(again)) {
        prompts.set(subject, MAX_PROMPTS);
        return refused;
      }
      own.set(subject, again);
    }
  };
}

/** `user@host` of an ssh argv (the word after `--`), else `local`. */
function subjectOf(argv: readonly string[]): string {
  if (argv[0] !== 'ssh') return 'local';
  const end = argv.indexOf('--');
  return end === -1 ? 'local' : (argv[end + 1] ?? 'local');
}

/**
 * A request's stdin that can be given again from its start behind a new head: a string or bytes
 * as they are; a stream (the lock session's questions) is recorded as it comes and each new
 * attempt gets what came so far, then the rest.
 */
function replayable(stdin: ExecRequest['stdin']): { withHead(head: string): string | Buffer | Readable } {
  if (stdin === undefined) return { withHead: (head) => head };
  if (typeof stdin === 'string') return { withHead: (head) => head + stdin };
  if (Buffer.isBuffer(stdin)) return { withHead: (head) => Buffer.concat([Buffer.from(head), stdin]) };
  const seen: Buffer[] = [];
  let ended = false;
  let current: PassThrough | undefined;
  stdin.on('data', (chunk: Buffer | string) => {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
    seen.push(bytes);
    current?.write(bytes);
  });
  stdin.on('end', () => {
    ended = true;
    current?.end();
  });
  return {
    withHead(head) {
      // The attempt before is over (its process ended): nothing more goes to it.
      current?.end();
      const joined = new PassThrough();
      joined.write(head);
      for (const bytes of seen) joined.write(bytes);
      if (ended) joined.end();
      current = joined;
      return joined;
    },
  };
}
