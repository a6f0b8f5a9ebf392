// Reads ssh's effective key exchange (ssh -G) for the fresh connection after activation; what to
// do with it is ssh/kex.ts's rule. A failure to read it changes nothing: ssh's own choice stands.
import type { Exec } from '../exec/index.js';
import { freshKexWords, parseKexAlgorithms, sshConfigQuery, SSH_DEFAULTS_QUERY } from '../ssh/index.js';

const QUERY_TIMEOUT_MS = 10_000;

/** ssh's compiled-in defaults, asked once per process port (the same ssh for every host). */
const defaultsByExec = new WeakMap<Exec, Promise<string[] | undefined>>();

async function kexOf(argv: readonly string[], exec: Exec): Promise<string[] | undefined> {
  try {
    const result = await exec({ argv: [...argv], timeoutMs: QUERY_TIMEOUT_MS });
    return result.exitCode === 0 ? parseKexAlgorithms(result.stdout) : undefined;
  } catch {
    return undefined;
  }
}

/** The words to put after `ssh` in the fresh connection's argv (`confirmArgv` resolved without them). */
export async function freshKexFor(confirmArgv: readonly string[], exec: Exec): Promise<string[]> {
  let defaults = defaultsByExec.get(exec);
  if (!defaults) {
    defaults = kexOf(SSH_DEFAULTS_QUERY, exec);
    defaultsByExec.set(exec, defaults);
  }
  const [effective, compiled] = await Promise.all([kexOf(sshConfigQuery(confirmArgv), exec), defaults]);
  return freshKexWords(effective, compiled);
}
