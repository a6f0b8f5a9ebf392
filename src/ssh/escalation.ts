// Privilege escalation: the words that make a command run as root where the ssh user (or fleet
// itself, for a local target) is not root, and the sudo wrapper that takes a password on stdin.
import type { Escalation, EscalationMethod } from '../manifest/inventory.js';
import { quoteRemoteCommand } from './quote.js';

/**
 * The words before a privileged command, each tool told never to ask (a question without a
 * terminal would hang the step, not fail it): sudo and doas `-n`, run0 `--no-ask-password`.
 */
export function escalationWords(method: EscalationMethod): string[] {
  if (method === 'sudo') return ['sudo', '-n', '--'];
  if (method === 'doas') return ['doas', '-n', '--'];
  // systemd ≥ 256. Without a terminal run0 hands the command its stdin and output as they are.
  if (method === 'run0') return ['run0', '--no-ask-password', '--'];
  return [...method.argv];
}

/** `$0` of the password wrapper: how its argv is told apart from every other (takesPassword). */
export const SUDO_PASSWORD_NAME = 'fleet-sudo-password';

/** The wrapper's exit status when sudo refuses the password; its last stderr line is PASSWORD_REFUSED_LINE. */
export const PASSWORD_REFUSED_EXIT = 86;
export const PASSWORD_REFUSED_LINE = 'fleet: sudo refused the password';

/**
 * Runs "$@" through sudo with the password fleet asked for. Its stdin starts with the password
 * twice, one line each, then the command's own input. `read` and `sudo -S` take one byte at a time
 * up to the newline, so the command's input stays whole:
 * - the first copy is checked on a pipe of its own (`-k`: never a cached timestamp, which would
 *   let sudo skip the password), so a wrong one fails here, at once, and reads nothing more (sudo
 *   -S on the real stdin would take the command's input as its next tries);
 * - where sudo asks this user for no password at all (NOPASSWD), the wrapper drops the second
 *   copy itself, so no command ever reads the password;
 * - else sudo reads the second copy (`-S -k -p ''`) and the command the rest.
 * The password lives in a shell variable only (never exported: no environ, no argv; printf is a
 * builtin). A password of more than one line cannot be handed this way (refused before the run).
 */
export const SUDO_PASSWORD_SCRIPT = `IFS= read -r pw || { echo '${PASSWORD_REFUSED_LINE}: none on stdin' >&2; exit ${PASSWORD_REFUSED_EXIT}; }
if sudo -n -k true 2>/dev/null; then
  pw=
  IFS= read -r pw
  pw=
  exec sudo -n -- "$@"
fi
if ! printf '%s\\n' "$pw" | sudo -S -k -p '' true 2>/dev/null; then
  pw=
  echo '${PASSWORD_REFUSED_LINE}' >&2
  exit ${PASSWORD_REFUSED_EXIT}
fi
pw=
exec sudo -S -k -p '' -- "$@"`;

/** The words before a privileged command for this escalation (the password wrapper where it takes one). */
export function escalationPrefix(escalation: Escalation): string[] {
  return escalation.askPassword ? ['sh', '-c', SUDO_PASSWORD_SCRIPT, SUDO_PASSWORD_NAME] : escalationWords(escalation.method);
}

/** `argv` made privileged by `escalation`. */
export function escalate<Word = string>(escalation: Escalation, argv: readonly Word[]): (Word | string)[] {
  return [...escalationPrefix(escalation), ...argv];
}

/** What a password-taking command's stdin starts with: the password twice (SUDO_PASSWORD_SCRIPT). */
export function passwordHead(password: string): string {
  return `${password}\n${password}\n`;
}

const LOCAL_WRAPPER = escalationPrefix({ method: 'sudo', askPassword: true });
const REMOTE_WRAPPER = `${quoteRemoteCommand(LOCAL_WRAPPER)} `;

/**
 * Whether a command runs the password wrapper and so needs the password ahead of its stdin: a
 * local argv that starts with it, or an ssh argv whose remote command does. Only plan/ and ssh/
 * build these words; a user's own command (fleet exec) never starts with them.
 */
export function takesPassword(argv: readonly string[]): boolean {
  if (LOCAL_WRAPPER.every((word, i) => argv[i] === word)) return true;
  if (argv[0] !== 'ssh') return false;
  const end = argv.indexOf('--');
  return end !== -1 && (argv[end + 2]?.startsWith(REMOTE_WRAPPER) ?? false);
}

/** Whether a finished command is the wrapper refusing the password (its exit status and its own line). */
export function refusedPassword(result: { exitCode: number | null; stderr: string }): boolean {
  return result.exitCode === PASSWORD_REFUSED_EXIT && result.stderr.includes(PASSWORD_REFUSED_LINE);
}
