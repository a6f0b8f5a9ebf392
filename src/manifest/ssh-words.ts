// What ssh options and paths must avoid to reach ssh intact: the rules `fleet plan` enforces, checked in the manifest with positions.

/**
 * Why `option` (an `ssh.options` entry, `Key=Value`) cannot be passed on as written, if it cannot.
 * fleet passes it to ssh as `-o Key=Value`, and to nix and nixos-rebuild in NIX_SSHOPTS, which they
 * split at every white space without quoting (src/ssh's nixSshOpts refuses it too).
 */
export function sshOptionProblem(option: string): string | undefined {
  if (/\s/.test(option)) {
    return 'contains white space, which NIX_SSHOPTS cannot carry (nix and nixos-rebuild split it at every space); put such an option in ~/.ssh/config instead';
  }
  if (!quotesBalanced(option)) return 'has an unclosed quote: ssh would refuse it on every host ("invalid quotes")';
  return undefined;
}

/**
 * Why a local path that ends up in `-o IdentityFile=…` or `-o UserKnownHostsFile=…` would not
 * reach ssh as the same path, if it would not. `what` names its use in the message.
 */
export function sshPathProblem(path: string, what: 'IdentityFile' | 'UserKnownHostsFile'): string | undefined {
  if (/\s/.test(path)) {
    return 'contains white space, which ssh options cannot carry (NIX_SSHOPTS is split at every space, and ssh reads a space in an option as a separator)';
  }
  const quote = /["'\\]/.exec(path)?.[0];
  if (quote !== undefined) return `contains ${JSON.stringify(quote)}, which ssh reads as quoting in an option: the file would not be found`;
  // ssh expands these in IdentityFile and UserKnownHostsFile (ssh_config(5), TOKENS and ENVIRONMENT VARIABLES).
  if (path.includes('%')) return `contains "%", which ssh expands as a token in ${what} (%d, %h, %u, …)`;
  if (path.includes('${')) return `contains "\${", which ssh expands as an environment variable in ${what}`;
  return undefined;
}

/** Whether ssh's option tokenizer (argv_split) finds every quote closed: a backslash escapes a quote or a backslash. */
function quotesBalanced(text: string): boolean {
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\' && (text[i + 1] === '"' || text[i + 1] === "'" || text[i + 1] === '\\')) {
      i++;
    } else if (quote === undefined && (c === '"' || c === "'")) {
      quote = c;
    } else if (c === quote) {
      quote = undefined;
    }
  }
  return quote === undefined;
}
