// The run's side of how closures travel: the built systems rooted for the run (and kept with
// --keep-result), and the cache push that each host's copy waits for.
import { existsSync } from 'node:fs';
import { CachePusher, RunResults, type HostBuild } from '../backends/index.js';
import type { Exec } from '../exec/index.js';
import { needsSystems, type Plan } from '../plan/index.js';
import type { RunEvent } from './events.js';

export interface ClosureTravel {
  /** A fresh out-link for each `nix build` of the build stage. */
  resultLink: () => string;
  /**
   * Resolves when the host may copy its system: at once without a cache (or for a system its
   * target built), else once the cache push of that system ended (pushed or not: a failed push
   * is a warning, and the copy uploads what the cache lacks).
   */
  pushed(host: string, build: HostBuild): Promise<void>;
  /** The run is over: keep the results (--keep-result), then drop the run's own roots. */
  finish(built: ReadonlyMap<string, HostBuild>): Promise<void>;
}

export function closureTravel(plan: Plan, deps: { exec: Exec; signal: AbortSignal; emit: (event: RunEvent) => void }): ClosureTravel {
  const results = new RunResults(plan.build.results);
  if (needsSystems(plan.scope)) results.prepare();
  const cache = plan.cache;
  const idleSeconds = plan.hosts[0]?.deploy.copyTimeoutSeconds ?? 300;
  const pusher = cache
    ? new CachePusher(cache, {
        exec: deps.exec,
        signal: deps.signal,
        idleTimeoutMs: idleSeconds * 1000,
      })
    : undefined;
  const warn = (host: string, message: string) => deps.emit({ type: 'host-note', host, level: 'warn', message });
  let finished = false;
  return {
    resultLink: results.nextLink,
    async pushed(host, build) {
      // A system built on its target is not here to push.
      if (!pusher || !cache || !build.toplevel || !existsSync(build.toplevel)) return;
      const result = await pusher.push(build.toplevel);
      if (result.kind === 'failed') warn(host, `pushing to the cache ${cache.url} failed (${result.reason}): what the cache lacks is uploaded from here`);
      else deps.emit({ type: 'build-line', hosts: [host], line: `pushed ${build.toplevel} to the cache ${cache.url}` });
    },
    async finish(built) {
      if (finished) return;
      finished = true;
      const local = new Map([...built].filter(([, b]) => b.toplevel && existsSync(b.toplevel)).map(([host, b]) => [host, b.toplevel]));
      for (const problem of await results.keep(local, deps.exec)) warn(problem.slice(0, problem.indexOf(':')), problem.slice(problem.indexOf(':') + 2));
      results.release();
    },
  };
}
