// What keeps a run's built systems alive: each `nix build` leaves its out-links (indirect GC
// roots) in the run's result directory, removed when the run ends; --keep-result adds one root per
// host that stays (colmena's --keep-result). Without them, a garbage collection on this machine
// between the build and a later wave's copy (a rollout's pause, nix.gc.automatic) would delete
// what is about to be deployed.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tailLines, type Exec } from '../exec/index.js';
import { resolveArgv, type ResultRoots } from '../plan/index.js';

export class RunResults {
  /** This run's links start with it: two runs of one manifest share the directory. */
  private readonly runId = `${process.pid}-${randomBytes(3).toString('hex')}`;
  private links = 0;

  constructor(private readonly roots: Pick<ResultRoots, 'dir' | 'keep'>) {}

  /** Creates the result directory (private to root: the links name what is deployed). */
  prepare(): void {
    mkdirSync(this.roots.dir, { recursive: true, mode: 0o700 });
  }

  /** A fresh out-link for one `nix build` (Nix adds `-1`, `-2`, … for its further results). */
  nextLink = (): string => join(this.roots.dir, `${this.runId}-${++this.links}`);

  /**
   * --keep-result: a root per host in the keep directory, pointing at its built system (the last
   * run's root of the host is replaced). Answers a line per host that could not be kept.
   */
  async keep(systems: ReadonlyMap<string, string>, exec: Exec): Promise<string[]> {
    const keep = this.roots.keep;
    if (!keep || systems.size === 0) return [];
    mkdirSync(keep.dir, { recursive: true });
    const problems: string[] = [];
    for (const [host, toplevel] of systems) {
      const result = await exec({ argv: resolveArgv(keep.command.argv, { resultLink: join(keep.dir, host), toplevel }), timeoutMs: 60_000 });
      if (result.exitCode !== 0) problems.push(`${host}: keeping the result failed: ${tailLines(result).at(-1) ?? `exit ${result.exitCode}`}`);
    }
    return problems;
  }

  /** Removes this run's out-links: what they kept alive may be collected from now on. */
  release(): void {
    let names: string[];
    try {
      names = readdirSync(this.roots.dir);
    } catch {
      return;
    }
    for (const name of names) if (name.startsWith(`${this.runId}-`)) rmSync(join(this.roots.dir, name), { force: true });
  }
}
