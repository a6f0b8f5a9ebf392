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

/** What a host's work may do with its place: wait outside it (the confirm gate), so it blocks no other host. */
export interface HostPlace {
  /** Gives the place up while `waiting` runs, and takes one again (in turn) before going on. */
  outside<T>(waiting: Promise<T>): Promise<T>;
}

/** `n` places (0 = unlimited), handed out first come first served; a holder may step outside. */
class Places {
  private free: number;
  private readonly queue: (() => void)[] = [];

  constructor(n: number) {
    this.free = n === 0 ? Number.POSITIVE_INFINITY : Math.max(1, n);
  }

  async take(): Promise<void> {
    if (this.free > 0) {
      this.free -= 1;
      return;
    }
    await new Promise<void>((resolve) => this.queue.push(resolve));
  }

  give(): void {
    const next = this.queue.shift();
    if (next) next();
    else this.free += 1;
  }
}

/**
 * `work` runs for every host, at most `parallel` at once; one host's failure never stops the
 * others (a thrown error is handed to `onError` and becomes that host's result).
 */
export async function forEachHost<H extends { name: string }, T>(
  hosts: readonly H[],
  work: (host: H, place: HostPlace) => Promise<T>,
  options: OperateOptions<T> & { onError: (host: H, error: unknown) => T },
): Promise<T[]> {
  const places = new Places(options.parallel);
  const place: HostPlace = {
    async outside(waiting) {
      places.give();
      try {
        return await waiting;
      } finally {
        await places.take();
      }
    },
  };
  return Promise.all(
    hosts.map(async (host) => {
      await options.ready?.(host.name);
      await places.take();
      try {
        let result: T;
        if (options.signal?.aborted) result = options.onSkipped(host.name);
        else {
          try {
            result = await work(host, place);
          } catch (error) {
            result = options.onError(host, error);
          }
        }
        options.onDone?.(host.name, result);
        return result;
      } finally {
        places.give();
      }
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
