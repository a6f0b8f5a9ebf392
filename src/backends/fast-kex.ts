// Reads ssh's effective key exchange (ssh -G) for a host's connections that carry nothing secret;
// what to do with it is ssh/kex.ts's rule. A failure to read it changes nothing: ssh's own choice stands.
import type { Exec } from '../exec/index.js';
import { fastKexWords, parseKexAlgorithms, sshConfigQuery, SSH_DEFAULTS_QUERY } from '../ssh/index.js';

const QUERY_TIMEOUT_MS = 10_000;

/** ssh's compiled-in defaults, asked once per process port (the same ssh for every host). */
const defaultsByExec = new WeakMap<Exec, Promise<string[] | undefined>>();
/** The words per `ssh -G` question, asked once per process port: a host's shared and fresh connections ask the same. */
const wordsByExec = new WeakMap<Exec, Map<string, Promise<string[]>>>();

async function kexOf(argv: readonly string[], exec: Exec): Promise<string[] | undefined> {
  try {
    const result = await exec({ argv: [...argv], timeoutMs: QUERY_TIMEOUT_MS });
    return result.exitCode === 0 ? parseKexAlgorithms(result.stdout) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The words to put after `ssh` in a connection that carries nothing secret (`<sessionKex>`,
 * `<freshKex>`), for its argv resolved without them. Never rejects.
 */
export function fastKexFor(argv: readonly string[], exec: Exec): Promise<string[]> {
  let defaults = defaultsByExec.get(exec);
  if (!defaults) {
    defaults = kexOf(SSH_DEFAULTS_QUERY, exec);
    defaultsByExec.set(exec, defaults);
  }
  let asked = wordsByExec.get(exec);
  if (!asked) wordsByExec.set(exec, (asked = new Map()));
  const query = sshConfigQuery(argv);
  const key = JSON.stringify(query);
  let words = asked.get(key);
  if (!words) {
    const compiled = defaults;
    words = kexOf(query, exec).then(async (effective) => fastKexWords(effective, await compiled));
    asked.set(key, words);
  }
  return words;
}
