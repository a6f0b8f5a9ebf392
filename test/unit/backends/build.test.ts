import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { NIX_BUILD_POLL_MS, runBuildStage } from '../../../src/backends/index.js';
import type { Exec, ExecRequest } from '../../../src/exec/index.js';
import { buildPlan } from '../../../src/plan/index.js';
import { bounded } from '../../../src/run/operate.js';
import { host, inventory, planOptions } from '../plan/inventory-fixture.js';

/**
 * A fake nix. `eval` answers drv/out paths for the hosts named in the --apply function, failing
 * when it names "broken"; `build` creates the output of every derivation except "unbuildable"'s,
 * and answers in reverse order (as Nix 2.8 answers sorted by store path, not by argument).
 */
function fakeNix(store: string, calls: string[][], gate?: (hosts: string[]) => Promise<void>): Exec {
  return async (request: ExecRequest) => {
    const argv = [...request.argv];
    calls.push(argv);
    if (argv[1] === 'eval') {
      const hosts = evaluatedHosts(argv);
      await gate?.(hosts);
      if (hosts.includes('broken')) return { exitCode: 1, signal: null, stdout: '', stderr: 'error: attribute missing in broken\n', timedOut: false };
      const json = hosts.map((h) => ({ host: h, v: { toplevel: { drv: `/nix/store/${h}.drv`, out: join(store, `${h}-system`) } } }));
      return { exitCode: 0, signal: null, stdout: JSON.stringify(json), stderr: '', timedOut: false };
    }
    const drvs = argv.filter((a) => a.endsWith('.drv'));
    let ok = true;
    for (const drv of drvs) {
      const name = drv.slice('/nix/store/'.length, -'.drv'.length);
      if (name === 'unbuildable') ok = false;
      else writeFileSync(join(store, `${name}-system`), '');
    }
    return ok
      ? { exitCode: 0, signal: null, stdout: '[]', stderr: '', timedOut: false }
      : { exitCode: 1, signal: null, stdout: '', stderr: 'error: builder for unbuildable failed\n', timedOut: false };
  };
}

/**
 * A fake nix whose evaluator streams as the real one does with fleet's --apply function: it traces
 * each host's result on stderr as soon as that host is evaluated (in the order asked, as Nix
 * forces the list's elements), waits for `between(host)`, and stops at "broken" as Nix stops at an error.
 */
function streamingNix(store: string, calls: string[][], between?: (host: string) => Promise<void>): Exec {
  const builder = fakeNix(store, calls);
  return async (request: ExecRequest) => {
    if (request.argv[1] !== 'eval') return builder(request);
    calls.push([...request.argv]);
    const json: unknown[] = [];
    for (const h of evaluatedHosts(request.argv)) {
      if (h === 'broken') return { exitCode: 1, signal: null, stdout: '', stderr: 'error: attribute missing in broken\n', timedOut: false };
      const v = { toplevel: { drv: `/nix/store/${h}.drv`, out: join(store, `${h}-system`) } };
      json.push({ host: h, v });
      request.onLine?.('evaluating…', 'stderr');
      request.onLine?.(`trace: fleet-evaluated ${JSON.stringify({ host: h, v })}`, 'stderr');
      await between?.(h);
    }
    return { exitCode: 0, signal: null, stdout: JSON.stringify(json), stderr: '', timedOut: false };
  };
}

/** The hosts a `nix eval` argv asks for (named in its --apply function). */
function evaluatedHosts(argv: readonly string[]): string[] {
  return [...(argv.at(-1) as string).matchAll(/\{ host = "([a-z0-9-]+)";/g)].map((m) => m[1] as string);
}

const noop = { onStart() {}, onLine() {}, onBuilt() {}, onFailed() {}, onReady() {} };
const oneAtATime = { evaluators: bounded(1) };

/** Lets every pending promise callback run (the fake's answers are promises). */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** A gate per host: its evaluation answers only once the test opens it. */
function gates() {
  const open = new Map<string, () => void>();
  const waiting = new Map<string, Promise<void>>();
  const of = (host: string) => {
    if (!waiting.has(host)) waiting.set(host, new Promise<void>((resolve) => open.set(host, resolve)));
    return waiting.get(host)!;
  };
  return {
    gate: async (hosts: string[]) => {
      await Promise.all(hosts.map(of));
    },
    open: (host: string) => {
      void of(host);
      open.get(host)!();
    },
  };
}

describe('runBuildStage', () => {
  it('hosts the evaluation cache answered are neither evaluated nor built, and are rooted for the run in one call', async () => {
    const store = mkdtempSync(join(tmpdir(), 'store-'));
    const system = join(store, 'cached-system');
    const other = join(store, 'other-system');
    writeFileSync(system, '');
    writeFileSync(other, '');
    const hits = [
      { host: 'cached', outputs: { toplevel: { drv: '/nix/store/cached.drv', out: system } } },
      { host: 'other', outputs: { toplevel: { drv: '/nix/store/other.drv', out: other } } },
    ];
    const state = { use: false as const, reason: 'a test' };
    const plan = buildPlan(inventory([host('cached'), host('other'), host('fresh')]), planOptions({ evalCache: { state, hits } }));
    const calls: string[][] = [];
    const ready: string[] = [];
    let links = 0;
    const result = await runBuildStage(plan.build, plan.commands, plan.flake, fakeNix(store, calls), { ...noop, onReady: (h: string) => ready.push(h) }, { ...oneAtATime, resultLink: () => `/run/r/${++links}` });
    expect(result.cachedHosts).toBe(2);
    expect(result.built.get('cached')).toEqual({ toplevel: system });
    expect(ready).toEqual(expect.arrayContaining(['cached', 'other']));
    // Rooted before they are handed on, all in one nix-store (it links `-2`, `-3`… itself): a
    // garbage collection while the run lasts cannot take them.
    const roots = calls.filter((c) => c[0] === 'nix-store');
    expect(roots).toEqual([['nix-store', '--add-root', '/run/r/1', '--indirect', '--realise', system, other]]);
    expect(calls.indexOf(roots[0]!)).toBe(0);
    // Only the other host was evaluated.
    const evaluation = calls.find((c) => c[1] === 'eval')!;
    expect(evaluatedHosts(evaluation)).toEqual(['fresh']);
  });

  it('evaluates all hosts in one evaluator, builds once, and maps results by path', async () => {
    const store = mkdtempSync(join(tmpdir(), 'store-'));
    const plan = buildPlan(inventory([host('a'), host('b'), host('c')]), planOptions());
    const calls: string[][] = [];
    const result = await runBuildStage(plan.build, plan.commands, plan.flake, fakeNix(store, calls), noop, oneAtATime);
    expect(calls.map((c) => c[1])).toEqual(['eval', 'build']);
    expect(result.evaluations).toBe(1);
    expect(result.built.get('b')).toEqual({ toplevel: join(store, 'b-system') });
    expect(calls[1]!.filter((a) => a.endsWith('.drv'))).toEqual(['/nix/store/a.drv', '/nix/store/b.drv', '/nix/store/c.drv']);
  });

  it('pins an evaluation failure on its host and still builds the others', async () => {
    const store = mkdtempSync(join(tmpdir(), 'store-'));
    const plan = buildPlan(inventory([host('a'), host('broken'), host('c')]), planOptions());
    const calls: string[][] = [];
    const failed: string[] = [];
    const result = await runBuildStage(plan.build, plan.commands, plan.flake, fakeNix(store, calls), { ...noop, onFailed: (h: string) => failed.push(h) }, oneAtATime);
    expect(failed).toEqual(['broken']);
    expect(result.failed.get('broken')?.reason).toBe('error: attribute missing in broken');
    expect([...result.built.keys()]).toEqual(['a', 'c']);
    expect(result.evaluations).toBe(4); // the shared evaluation, then one per host to find the culprit
  });

  it('pins a build failure on the host whose output is missing', async () => {
    const store = mkdtempSync(join(tmpdir(), 'store-'));
    const plan = buildPlan(inventory([host('a'), host('unbuildable')]), planOptions());
    const result = await runBuildStage(plan.build, plan.commands, plan.flake, fakeNix(store, []), noop, oneAtATime);
    expect([...result.built.keys()]).toEqual(['a']);
    expect(result.failed.get('unbuildable')?.reason).toBe('error: builder for unbuildable failed');
  });

  it('evaluates at most evalJobs chunks at once, and a host is ready as soon as its own chunk is built', async () => {
    const store = mkdtempSync(join(tmpdir(), 'store-'));
    const plan = buildPlan(inventory([host('a'), host('b'), host('c')]), planOptions({ evalLimit: 1, evalJobs: 2 }));
    expect(plan.build.evalJobs).toBe(2);
    const calls: string[][] = [];
    const { gate, open } = gates();
    const events: string[] = [];
    const callbacks = {
      ...noop,
      onStart: (hosts: string[]) => events.push(`start ${hosts.join(',')}`),
      onReady: (h: string) => events.push(`ready ${h}`),
    };
    const stage = runBuildStage(plan.build, plan.commands, plan.flake, fakeNix(store, calls, gate), callbacks, { evaluators: bounded(plan.build.evalJobs) });
    await settle();
    // Two evaluators run; the third chunk waits for a slot.
    expect(calls.map(evaluatedHosts)).toEqual([['a'], ['b']]);
    expect(events).toEqual(['start a', 'start b']);

    open('a');
    await settle();
    // a is built and ready while b still evaluates; c took a's evaluator slot (before a's build).
    expect(events.slice(2).sort()).toEqual(['ready a', 'start c']);
    expect(calls.filter((c) => c[1] === 'eval').map(evaluatedHosts)).toEqual([['a'], ['b'], ['c']]);

    open('c');
    open('b');
    const result = await stage;
    expect(events.slice(4).sort()).toEqual(['ready b', 'ready c']);
    expect(result.evaluations).toBe(3);
    expect([...result.built.keys()].sort()).toEqual(['a', 'b', 'c']);
  });

  it('one nix build at a time per build host, taking the hosts of every chunk evaluated meanwhile', async () => {
    // Two builds at once would contend for the derivations their systems share (Nix polls a lock every 5 s).
    const store = mkdtempSync(join(tmpdir(), 'store-'));
    const plan = buildPlan(inventory([host('a'), host('b'), host('c')]), planOptions({ evalLimit: 1, evalJobs: 3 }));
    expect(plan.build.chunks).toHaveLength(3);
    const { gate, open } = gates();
    const base = fakeNix(store, [], gate);
    const builds: string[][] = [];
    const release: (() => void)[] = [];
    let running = 0;
    let most = 0;
    const exec: Exec = async (request) => {
      if (request.argv[1] !== 'build') return base(request);
      builds.push(request.argv.filter((a) => a.endsWith('.drv')).map((a) => a.slice('/nix/store/'.length, -'.drv'.length)));
      most = Math.max(most, ++running);
      await new Promise<void>((resolve) => release.push(resolve));
      running--;
      return base(request);
    };
    const stage = runBuildStage(plan.build, plan.commands, plan.flake, exec, noop, { evaluators: bounded(3) });
    open('a');
    await settle();
    expect(builds).toEqual([['a']]);
    // b's and c's chunks are evaluated while a's build runs: they wait for it, then build together.
    open('b');
    open('c');
    await settle();
    expect(builds).toEqual([['a']]);
    release.shift()!();
    await settle();
    expect(builds).toEqual([['a'], ['b', 'c']]);
    release.shift()!();
    const result = await stage;
    expect([...result.built.keys()].sort()).toEqual(['a', 'b', 'c']);
    expect(most).toBe(1);
  });

  it('a build that has run for Nix’s poll interval no longer holds the next one back', async () => {
    // Waiting out a real build (a compile) would cost more than one lock poll of Nix's.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    try {
      const store = mkdtempSync(join(tmpdir(), 'store-'));
      const plan = buildPlan(inventory([host('a'), host('b')]), planOptions({ evalLimit: 1, evalJobs: 2 }));
      const { gate, open } = gates();
      const base = fakeNix(store, [], gate);
      const builds: string[][] = [];
      const release: (() => void)[] = [];
      const exec: Exec = async (request) => {
        if (request.argv[1] !== 'build') return base(request);
        builds.push(request.argv.filter((a) => a.endsWith('.drv')).map((a) => a.slice('/nix/store/'.length, -'.drv'.length)));
        await new Promise<void>((resolve) => release.push(resolve));
        return base(request);
      };
      const stage = runBuildStage(plan.build, plan.commands, plan.flake, exec, noop, { evaluators: bounded(2) });
      open('a');
      await settle();
      open('b');
      await settle();
      vi.advanceTimersByTime(NIX_BUILD_POLL_MS - 1);
      await settle();
      expect(builds).toEqual([['a']]);
      vi.advanceTimersByTime(1);
      await settle();
      expect(builds).toEqual([['a'], ['b']]);
      for (const go of release) go();
      const result = await stage;
      expect([...result.built.keys()].sort()).toEqual(['a', 'b']);
    } finally {
      vi.useRealTimers();
    }
  });

  it('a failed chunk re-evaluates its hosts alone, in evaluator slots, while the other chunk goes on', async () => {
    const store = mkdtempSync(join(tmpdir(), 'store-'));
    const plan = buildPlan(inventory([host('a'), host('broken'), host('c'), host('d')]), planOptions({ evalLimit: 2, evalJobs: 2 }));
    const calls: string[][] = [];
    const failed: string[] = [];
    const ready: string[] = [];
    const result = await runBuildStage(
      plan.build,
      plan.commands,
      plan.flake,
      fakeNix(store, calls),
      { ...noop, onFailed: (h: string) => failed.push(h), onReady: (h: string) => ready.push(h) },
      { evaluators: bounded(2) },
    );
    expect(failed).toEqual(['broken']);
    expect(ready.sort()).toEqual(['a', 'c', 'd']);
    // Chunk [a, broken] and chunk [c, d], then a and broken alone.
    expect(calls.filter((c) => c[1] === 'eval').map(evaluatedHosts)).toEqual([['a', 'broken'], ['c', 'd'], ['a'], ['broken']]);
    expect(result.evaluations).toBe(4);
  });

  it('starts no evaluator once interrupted; hosts of chunks not evaluated are neither built nor failed', async () => {
    const store = mkdtempSync(join(tmpdir(), 'store-'));
    const plan = buildPlan(inventory([host('a'), host('b')]), planOptions({ evalLimit: 1, evalJobs: 1 }));
    const controller = new AbortController();
    const calls: string[][] = [];
    const result = await runBuildStage(plan.build, plan.commands, plan.flake, fakeNix(store, calls, async () => controller.abort()), noop, {
      evaluators: bounded(1),
      signal: controller.signal,
    });
    expect(calls.map(evaluatedHosts)).toEqual([['a']]);
    expect(result.evaluations).toBe(1);
    expect(result.built.has('b') || result.failed.has('b')).toBe(false);
  });

  it('builds and readies each host as soon as the evaluator traces it, while it evaluates the next', async () => {
    const store = mkdtempSync(join(tmpdir(), 'store-'));
    const plan = buildPlan(inventory([host('a'), host('b'), host('c')]), planOptions({ evalJobs: 1 }));
    expect(plan.build.chunks).toHaveLength(1);
    const calls: string[][] = [];
    const { gate, open } = gates();
    const events: string[] = [];
    const lines: string[] = [];
    const callbacks = { ...noop, onReady: (h: string) => events.push(`ready ${h}`), onLine: (_: string[], line: string) => lines.push(line) };
    const stage = runBuildStage(plan.build, plan.commands, plan.flake, streamingNix(store, calls, (h) => gate([h])), callbacks, oneAtATime);
    await settle();
    // The evaluator traced a and waits: a is built and ready already.
    expect(events).toEqual(['ready a']);
    expect(calls.map((c) => c[1])).toEqual(['eval', 'build']);
    open('a');
    await settle();
    expect(events).toEqual(['ready a', 'ready b']);
    open('b');
    open('c');
    const result = await stage;
    expect(events).toEqual(['ready a', 'ready b', 'ready c']);
    expect(result.evaluations).toBe(1);
    // One build per host here: each was traced while no other build ran. The traces are not shown.
    expect(calls.filter((c) => c[1] === 'build').map((c) => c.filter((a) => a.endsWith('.drv')))).toEqual([
      ['/nix/store/a.drv'],
      ['/nix/store/b.drv'],
      ['/nix/store/c.drv'],
    ]);
    expect(lines).toEqual(['evaluating…', 'evaluating…', 'evaluating…']);
  });

  it('hosts traced while a build runs are built together in the next one', async () => {
    const store = mkdtempSync(join(tmpdir(), 'store-'));
    const plan = buildPlan(inventory([host('a'), host('b'), host('c')]), planOptions({ evalJobs: 1 }));
    const calls: string[][] = [];
    const result = await runBuildStage(plan.build, plan.commands, plan.flake, streamingNix(store, calls), noop, oneAtATime);
    expect(calls.filter((c) => c[1] === 'build').map((c) => c.filter((a) => a.endsWith('.drv')))).toEqual([
      ['/nix/store/a.drv'],
      ['/nix/store/b.drv', '/nix/store/c.drv'],
    ]);
    expect([...result.built.keys()].sort()).toEqual(['a', 'b', 'c']);
  });

  it('an evaluator that fails after streaming some hosts re-evaluates only the hosts it never traced', async () => {
    const store = mkdtempSync(join(tmpdir(), 'store-'));
    const plan = buildPlan(inventory([host('a'), host('broken'), host('c')]), planOptions({ evalJobs: 1 }));
    const calls: string[][] = [];
    const failed: string[] = [];
    const result = await runBuildStage(plan.build, plan.commands, plan.flake, streamingNix(store, calls), { ...noop, onFailed: (h: string) => failed.push(h) }, oneAtATime);
    expect(failed).toEqual(['broken']);
    expect(result.failed.get('broken')?.reason).toBe('error: attribute missing in broken');
    expect([...result.built.keys()].sort()).toEqual(['a', 'c']);
    // The shared evaluation traced a, then stopped at broken; broken and c alone.
    expect(calls.filter((c) => c[1] === 'eval').map(evaluatedHosts)).toEqual([['a', 'broken', 'c'], ['broken'], ['c']]);
    expect(result.evaluations).toBe(3);
  });
});

describe('runBuildStage with buildHost: target', () => {
  it('copies a target-built host\'s derivation to it and realises it there; the others build here; each build gets its own out-link', async () => {
    const store = mkdtempSync(join(tmpdir(), 'store-'));
    const plan = buildPlan(inventory([host('here'), host('there', { buildOnTarget: true })]), planOptions({ evalJobs: 1, evalLimit: 8, evalLimitSource: 'given' }));
    expect(plan.build.chunks.map((c) => c.targetBuilds?.map((t) => t.host))).toEqual([undefined, ['there']]);
    const calls: string[][] = [];
    const local = fakeNix(store, calls);
    const exec: Exec = async (request) => {
      if (request.argv.includes('--derivation')) {
        calls.push([...request.argv]);
        return { exitCode: 0, signal: null, stdout: '', stderr: '', timedOut: false };
      }
      if (request.argv[0] === 'ssh') {
        calls.push([...request.argv]);
        // nix-store --realise prints the outputs it realised.
        return { exitCode: 0, signal: null, stdout: `${join(store, 'there-system')}\n`, stderr: '', timedOut: false };
      }
      return local(request);
    };
    const ready: string[] = [];
    let links = 0;
    const result = await runBuildStage(plan.build, plan.commands, plan.flake, exec, { ...noop, onReady: (h: string) => ready.push(h) }, { ...oneAtATime, resultLink: () => `/run/r/${++links}` });
    expect(result.failed).toEqual(new Map());
    expect(ready.sort()).toEqual(['here', 'there']);
    expect(result.built.get('there')).toEqual({ toplevel: join(store, 'there-system') });
    const copy = calls.find((c) => c.includes('--derivation'))!;
    expect(copy.slice(-4)).toEqual(['--derivation', '--to', 'ssh://root@there.example.org', '/nix/store/there.drv']);
    const realise = calls.find((c) => c[0] === 'ssh')!;
    // The remote command line, quoted once: the words, then the derivation.
    expect(realise.slice(-2)).toEqual(['nix-store --realise', '/nix/store/there.drv']);
    // Only "here" was built by this machine, with an out-link of its own.
    const builds = calls.filter((c) => c[1] === 'build');
    expect(builds).toHaveLength(1);
    expect(builds[0]).toContain('/nix/store/here.drv');
    expect(builds[0]).not.toContain('/nix/store/there.drv');
    expect(builds[0]![builds[0]!.indexOf('--out-link') + 1]).toBe('/run/r/1');
  });

  it('fails only the target-built host whose build on the target fails, with the target\'s error', async () => {
    const store = mkdtempSync(join(tmpdir(), 'store-'));
    const plan = buildPlan(inventory([host('there', { buildOnTarget: true })]), planOptions());
    const local = fakeNix(store, []);
    const exec: Exec = async (request) => {
      if (request.argv.includes('--derivation')) return { exitCode: 0, signal: null, stdout: '', stderr: '', timedOut: false };
      if (request.argv[0] === 'ssh') return { exitCode: 1, signal: null, stdout: '', stderr: 'error: builder for \'/nix/store/there.drv\' failed with exit code 2\n', timedOut: false };
      return local(request);
    };
    const result = await runBuildStage(plan.build, plan.commands, plan.flake, exec, noop, oneAtATime);
    expect(result.built.size).toBe(0);
    expect(result.failed.get('there')?.reason).toBe("error: builder for '/nix/store/there.drv' failed with exit code 2");
  });
});
