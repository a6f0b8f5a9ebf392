// Remote-command quoting: the one function that turns an argv into a POSIX shell line.

const SAFE_WORD = /^[A-Za-z0-9_\/.,:=@%+^-]+$/;

/** Quotes one word for a POSIX shell: bare when it is plainly safe, else single-quoted. */
export function quoteShellWord(word: string): string {
  if (word.length > 0 && SAFE_WORD.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * Turns an argv into the one string ssh hands to the remote user's shell. Every word is
 * quoted exactly once here; nothing else in fleet builds a remote command line.
 */
export function quoteRemoteCommand(argv: readonly string[]): string {
  if (argv.length === 0) throw new Error('quoteRemoteCommand: empty argv');
  return argv.map(quoteShellWord).join(' ');
}

/** Shell-split-safe rendering of an argv for display (plan output, error messages). */
export function displayArgv(argv: readonly string[]): string {
  return argv.map(quoteShellWord).join(' ');
}
