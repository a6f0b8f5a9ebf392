// The key exchange of the one fresh connection after a live activation (pure; backends runs ssh -G).
//
// OpenSSH 9.0–9.8 prefer sntrup761x25519, whose key generation costs the client about 85 ms of CPU
// per connection (curve25519: about 8 ms; measured on the lab's 2-core machine). That connection
// only confirms the watchdog and reads back which system runs: nothing secret crosses it. So where
// the user configured no KexAlgorithms, fleet puts curve25519 first for it — reordering ssh's own
// list, never adding an algorithm — and the server still falls back to the rest. The shared
// connection (copies, keys, secrets) always keeps the user's key exchange untouched.

/** What `ssh -G` asks of an ssh argv: the same options and destination, without the remote command. */
export function sshConfigQuery(argv: readonly string[]): string[] {
  if (argv[0] !== 'ssh') throw new Error('sshConfigQuery: not an ssh argv');
  const end = argv.indexOf('--');
  // `--` then the destination; what follows is the remote command.
  const upTo = end === -1 ? argv.length : Math.min(argv.length, end + 2);
  return ['ssh', '-G', ...argv.slice(1, upTo)];
}

/** ssh's compiled-in defaults: no configuration file read, no option given. */
export const SSH_DEFAULTS_QUERY: readonly string[] = ['ssh', '-F', '/dev/null', '-G', 'fleet.invalid'];

/** The `kexalgorithms` list of `ssh -G` output; undefined when it has none. */
export function parseKexAlgorithms(sshG: string): string[] | undefined {
  const line = sshG.split('\n').find((l) => l.startsWith('kexalgorithms '));
  return line ? line.slice('kexalgorithms '.length).trim().split(',').filter(Boolean) : undefined;
}

const SLOW_FIRST = /^sntrup761x25519-sha512(@openssh\.com)?$/;
const FAST = new Set(['curve25519-sha256', 'curve25519-sha256@libssh.org']);

/**
 * The words for the fresh connection: `-o KexAlgorithms=<the same list, curve25519 first>` when the
 * effective list is ssh's own default and starts with sntrup761; otherwise none (a KexAlgorithms
 * the user set, in ssh_config or in the manifest, stands as it is; a default that is already fast,
 * such as OpenSSH 9.9's mlkem768x25519, too).
 */
export function freshKexWords(effective: readonly string[] | undefined, defaults: readonly string[] | undefined): string[] {
  if (!effective || !defaults || effective.join(',') !== defaults.join(',')) return [];
  if (!SLOW_FIRST.test(effective[0] ?? '')) return [];
  const fast = effective.filter((a) => FAST.has(a));
  if (fast.length === 0) return [];
  return ['-o', `KexAlgorithms=${[...fast, ...effective.filter((a) => !FAST.has(a))].join(',')}`];
}
