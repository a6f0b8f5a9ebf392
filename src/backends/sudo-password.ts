// The run's sudo password, handed to each privileged command on its stdin ahead of its own input.
import { PassThrough, Readable } from 'node:stream';
import type { Exec, ExecRequest } from '../exec/index.js';
import { passwordHead, PASSWORD_REFUSED_LINE, refusedPassword, takesPassword } from '../ssh/index.js';

/**
 * An Exec that gives every command running the password wrapper (ssh/escalation.ts, built only by
 * plan/ for hosts with askSudoPassword) the password first on its stdin, and redacts the password
 * from every command's output. The password never reaches an argv, an environment or a file.
 */
export function withSudoPassword(exec: Exec, password: string): Exec {
  if (/[\n\r\0]/.test(password)) throw new Error('a sudo password cannot hold a line break or NUL');
  return async (request) => {
    const secrets = [...(request.secrets ?? []), password];
    if (!takesPassword(request.argv) || request.inheritStdio || request.noStdio) return exec({ ...request, secrets });
    const result = await exec({ ...request, secrets, stdin: ahead(passwordHead(password), request.stdin) });
    // The wrapper's own line is the reason; sudo's complaints it kept to itself.
    return refusedPassword(result) ? { ...result, stderr: `${PASSWORD_REFUSED_LINE}\n` } : result;
  };
}

/** `head`, then the request's own stdin (a stream goes on as it comes: the lock session's questions). */
function ahead(head: string, stdin: ExecRequest['stdin']): string | Buffer | Readable {
  if (stdin === undefined) return head;
  if (typeof stdin === 'string') return head + stdin;
  if (Buffer.isBuffer(stdin)) return Buffer.concat([Buffer.from(head), stdin]);
  const joined = new PassThrough();
  joined.write(head);
  stdin.pipe(joined);
  return joined;
}

/** The reason a host failed when sudo refused the password, for any step. */
export function passwordRefusedReason(user: string): string {
  return `sudo refused the password for ${user} (asked once for every host; --ask-sudo-password / askSudoPassword)`;
}
