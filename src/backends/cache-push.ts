// cache.push: each built system goes to the binary cache once, as soon as it is built, so that the
// hosts' copies then let their targets substitute it from there: this machine uploads each store
// path once, whatever the number of hosts. One push runs at a time and takes every system built
// since the last one began (a path two systems share goes once: the second push finds it there);
// it never waits for the rest of the fleet. A failed push fails nothing: the hosts' copies upload
// what the cache lacks.
import { tailLines, type Exec, type ExecResult } from '../exec/index.js';
import { resolveArgv, type CachePush } from '../plan/index.js';

/** How the push of one system ended. */
export type CachePushResult = { kind: 'pushed' } | { kind: 'failed'; reason: string };

export interface CachePushOptions {
  exec: Exec;
  signal?: AbortSignal;
  /** A push that prints nothing this long is stopped (nix copy prints a line per path). */
  idleTimeoutMs: number;
  /** A line of sign's or push's output, for the log. */
  onLine?: (line: string) => void;
}

export class CachePusher {
  /** Each system's push, by store path: asked twice, pushed once. */
  private readonly results = new Map<string, Promise<CachePushResult>>();
  private pending: { toplevel: string; settle: (result: CachePushResult) => void }[] = [];
  private running = false;

  constructor(
    private readonly cache: CachePush,
    private readonly options: CachePushOptions,
  ) {}

  /** Pushes a built system (once); resolves when it is in the cache, or the push failed. */
  push(toplevel: string): Promise<CachePushResult> {
    let result = this.results.get(toplevel);
    if (!result) {
      result = new Promise((settle) => this.pending.push({ toplevel, settle }));
      this.results.set(toplevel, result);
      void this.next();
    }
    return result;
  }

  private async next(): Promise<void> {
    if (this.running || this.pending.length === 0) return;
    this.running = true;
    const batch = this.pending;
    this.pending = [];
    const result = await this.pushBatch(batch.map((b) => b.toplevel)).catch((error: unknown): CachePushResult => ({ kind: 'failed', reason: error instanceof Error ? error.message : String(error) }));
    for (const { settle } of batch) settle(result);
    this.running = false;
    void this.next();
  }

  private async pushBatch(toplevels: string[]): Promise<CachePushResult> {
    if (this.options.signal?.aborted) return { kind: 'failed', reason: 'interrupted' };
    const run = (argv: string[]): Promise<ExecResult> =>
      this.options.exec({ argv, signal: this.options.signal, idleTimeoutMs: this.options.idleTimeoutMs, onLine: (line) => this.options.onLine?.(line) });
    if (this.cache.sign) {
      const signed = await run(resolveArgv(this.cache.sign.argv, { toplevels }));
      if (signed.exitCode !== 0) return { kind: 'failed', reason: `signing failed: ${why(signed)}` };
    }
    const pushed = await run(resolveArgv(this.cache.push.argv, { toplevels }));
    return pushed.exitCode === 0 ? { kind: 'pushed' } : { kind: 'failed', reason: why(pushed) };
  }
}

function why(result: ExecResult): string {
  if (result.stalled) return 'no progress, stopped';
  return tailLines(result).filter((line) => /error/i.test(line)).at(-1) ?? tailLines(result).at(-1) ?? `exit ${result.exitCode ?? result.signal}`;
}
