// The key exchange of connections that carry nothing secret (pure; backends runs ssh -G).
//
// OpenSSH 9.0–9.8 prefer sntrup761x25519, whose key generation costs the client about 70–85 ms of
// CPU per connection (curve25519: about 8 ms; measured on the lab's 2-core machine). Two of a
// host's connections carry nothing secret: the fresh one after a live activation (it confirms the
// watchdog and reads back which system runs) and, for a host whose plan pushes no key and no
// secret, the shared one (lock, probe, store paths, commands and their answers: a closure is
// world-readable in the store at both ends). Where the user configured no KexAlgorithms, fleet puts
// curve25519 first for those — reordering ssh's own list, never adding an algorithm — and the
// server still falls back to the rest. Keys and secrets always cross ssh's key exchange as it is.

/** Options that say how a connection is shared, not what it negotiates: left out of the query. */
const SHARING = /^Control(Master|Path|Persist)=/i;

/**
 * What `ssh -G` asks of an ssh argv: the same options and destination, without the remote command
 * and without the sharing options, so that a host's shared and fresh connections ask the same
 * question (and fleet asks it once).
 */
export function sshConfigQuery(argv: readonly string[]): string[] {
  if (argv[0] !== 'ssh') throw new Error('sshConfigQuery: not an ssh argv');
  const end = argv.indexOf('--');
  // `--` then the destination; what follows is the remote command.
  const upTo = end === -1 ? argv.length : Math.min(argv.length, end + 2);
  const query = ['ssh', '-G'];
  for (let i = 1; i < upTo; i++) {
    if (argv[i] === '-o' && SHARING.test(argv[i + 1] ?? '')) i++;
    else query.push(argv[i]!);
  }
  return query;
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
 * The words for a connection that carries nothing secret (`<freshKex>`, `<sessionKex>`):
 * `-o KexAlgorithms=<the same list, curve25519 first>` when the
 * effective list is ssh's own default and starts with sntrup761; otherwise none (a KexAlgorithms
 * the user set, in ssh_config or in the manifest, stands as it is; a default that is already fast,
 * such as OpenSSH 9.9's mlkem768x25519, too).
 */
export function fastKexWords(effective: readonly string[] | undefined, defaults: readonly string[] | undefined): string[] {
  if (!effective || !defaults || effective.join(',') !== defaults.join(',')) return [];
  if (!SLOW_FIRST.test(effective[0] ?? '')) return [];
  const fast = effective.filter((a) => FAST.has(a));
  if (fast.length === 0) return [];
  return ['-o', `KexAlgorithms=${[...fast, ...effective.filter((a) => !FAST.has(a))].join(',')}`];
}
