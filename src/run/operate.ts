// Bounded parallelism (the one p-limit): one piece of work per host, results in host order; evaluator slots.
import pLimit from 'p-limit';

export interface OperateOptions<T> {
  /** Hosts at once; 0 = unlimited. */
  parallel: number;
  /** Aborted on Ctrl-C: hosts that have not started get `onSkipped`. */
  signal?: AbortSignal;
  /** Called as each host finishes (e.g. to print its block of output). */
  onDone?: (host: string, result: T) => void;
  /** The result of a host that never started because of the interrupt. */
  onSkipped: (host: string) => T;
  /**
   * Resolves when a host may start (apply: its own system is built). A host waits for it before
   * it takes one of the `parallel` places, so hosts start in the order they become ready.
   */
  ready?: (host: string) => Promise<unknown>;
}

/** At most `n` pieces of work at once (0 = unlimited), first come first served. */
export function bounded(n: number): <T>(work: () => Promise<T>) => Promise<T> {
  const limit = pLimit(n === 0 ? Number.POSITIVE_INFINITY : Math.max(1, n));
  return (work) => limit(work);
}

/**
 * `work` runs for every host, at most `parallel` at once; one host's failure never stops the
 * others (a thrown error is handed to `onError` and becomes that host's result).
 */
export async function forEachHost<H extends { name: string }, T>(
  hosts: readonly H[],
  work: (host: H) => Promise<T>,
  options: OperateOptions<T> & { onError: (host: H, error: unknown) => T },
): Promise<T[]> {
  const limit = bounded(options.parallel);
  return Promise.all(
    hosts.map(async (host) => {
      await options.ready?.(host.name);
      return limit(async () => {
        let result: T;
        if (options.signal?.aborted) result = options.onSkipped(host.name);
        else {
          try {
            result = await work(host);
          } catch (error) {
            result = options.onError(host, error);
          }
        }
        options.onDone?.(host.name, result);
        return result;
      });
    }),
  );
}

/**
 * The exit code of `fleet exec` from each host's: 0 when all are 0, else the highest non-zero one;
 * a host whose command did not finish (ssh failure, killed) counts as 255.
 */
export function worstExitCode(codes: readonly (number | null)[]): number {
  return codes.reduce<number>((worst, code) => Math.max(worst, code === null ? 255 : code), 0);
}
