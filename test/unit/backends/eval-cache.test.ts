import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  entryPath,
  evalCacheDir,
  evaluationSettings,
  expressionVersion,
  flakeIdentity,
  keepEvaluation,
  lookupEvalCache,
  readEntry,
  runBuildStage,
  writeEntry,
  type LookupOptions,
} from '../../../src/backends/index.js';
import type { Exec, ExecRequest } from '../../../src/exec/index.js';
import { buildAttributes, buildPlan, type EvalCacheKey } from '../../../src/plan/index.js';
import { bounded } from '../../../src/run/operate.js';
import { host, inventory, planOptions } from '../plan/inventory-fixture.js';

const METADATA = {
  description: 'a fleet',
  lastModified: 1796303232,
  locked: { lastModified: 1796303232, narHash: 'sha256-WxGVsmcK0iB10nX3S5XjX8cornHATQ1lqckBjQgJ520=', path: '/srv/fleet', type: 'path' },
  locks: {
    nodes: {
      root: { inputs: { nixpkgs: 'nixpkgs' } },
      nixpkgs: { locked: { narHash: 'sha256-AAAA', rev: 'a'.repeat(40), type: 'github', owner: 'NixOS', repo: 'nixpkgs', lastModified: 1 }, original: { type: 'github', owner: 'NixOS', repo: 'nixpkgs' } },
    },
    root: 'root',
    version: 7,
  },
  original: { path: '/srv/fleet', type: 'path' },
  originalUrl: 'path:/srv/fleet',
  path: '/nix/store/3yf1f7zbpvjqs9l4mr93qf5649ng5923-source',
  resolved: { path: '/srv/fleet', type: 'path' },
  resolvedUrl: 'path:/srv/fleet',
  url: 'path:/srv/fleet?lastModified=1796303232&narHash=sha256-WxGVsmcK0iB10nX3S5XjX8cornHATQ1lqckBjQgJ520=',
};

const CONFIG = {
  system: { value: 'x86_64-linux', defaultValue: 'x86_64-linux', description: '' },
  'pure-eval': { value: true, defaultValue: false, description: '' },
  'restrict-eval': { value: false },
  'allow-import-from-derivation': { value: true },
  'allowed-uris': { value: [] },
  'extra-platforms': { value: [] },
  store: { value: 'auto' },
  cores: { value: 2 },
};

const KEY: EvalCacheKey = {
  flake: 'f'.repeat(64),
  nix: 'nix (Nix) 2.8.0',
  nixCommand: ['nix'],
  settings: { system: 'x86_64-linux', 'pure-eval': true },
  expression: expressionVersion(),
};

const DRV = '/nix/store/ylx6av0p1fbkzr9p4py0y86q15mp5171-nixos-system-a-25.11.drv';
const OUT = '/nix/store/0ylx6av0p1fbkzr9p4py0y86q15mp517-nixos-system-a-25.11';

function ok(stdout: string) {
  return { exitCode: 0, signal: null, stdout, stderr: '', timedOut: false };
}

/**
 * A fake nix for the lookup: metadata and settings as given, and nix-store naming `invalid` paths.
 * Every argv is recorded.
 */
function fakeNix(calls: string[][], opts: { metadata?: unknown; config?: unknown; invalid?: string[] } = {}): Exec {
  return async (request: ExecRequest) => {
    const argv = [...request.argv];
    calls.push(argv);
    if (argv[1] === 'flake' && argv[2] === 'metadata') return ok(JSON.stringify(opts.metadata ?? METADATA));
    if (argv[1] === 'show-config' || (argv[1] === 'config' && argv[2] === 'show')) return ok(JSON.stringify(opts.config ?? CONFIG));
    if (argv[0]!.endsWith('nix-store')) {
      const asked = argv.slice(3);
      return ok(asked.filter((p) => (opts.invalid ?? []).includes(p)).map((p) => `${p}\n`).join(''));
    }
    throw new Error(`unexpected ${argv.join(' ')}`);
  };
}

function lookupOptions(over: Partial<LookupOptions> = {}): LookupOptions {
  return {
    commands: { nix: ['nix'], nixosRebuild: ['nixos-rebuild'], nixosAnywhere: ['nixos-anywhere'], nixosInstall: ['nixos-install'] },
    flake: '/srv/fleet',
    nixVersion: 'nix (Nix) 2.8.0',
    attributes: [...buildAttributes('/srv/fleet', 'a', undefined), ...buildAttributes('/srv/fleet', 'b', { noDiskoDeps: true } as never)],
    impure: false,
    disabled: false,
    dir: mkdtempSync(join(tmpdir(), 'evc-')),
    exec: fakeNix([]),
    ...over,
  };
}

/** The key a lookup with the fake nix computes (the first lookup's state). */
async function keyOf(options: LookupOptions): Promise<EvalCacheKey> {
  const { state } = await lookupEvalCache(options);
  if (!state.use) throw new Error(`cache off: ${state.reason}`);
  return state.key;
}

describe('the evaluation cache key', () => {
  it('changes with every component: the flake, the Nix version, the nix command, a setting, the expression, the host and the attribute', () => {
    const dir = '/cache';
    const base = entryPath(dir, KEY, 'a', 'toplevel');
    const variants = [
      entryPath(dir, { ...KEY, flake: 'e'.repeat(64) }, 'a', 'toplevel'),
      entryPath(dir, { ...KEY, nix: 'nix (Nix) 2.18.1' }, 'a', 'toplevel'),
      entryPath(dir, { ...KEY, nixCommand: ['/opt/nix/bin/nix'] }, 'a', 'toplevel'),
      entryPath(dir, { ...KEY, settings: { ...KEY.settings, system: 'aarch64-linux' } }, 'a', 'toplevel'),
      entryPath(dir, { ...KEY, settings: { ...KEY.settings, 'allow-import-from-derivation': false } }, 'a', 'toplevel'),
      entryPath(dir, { ...KEY, expression: '0'.repeat(64) }, 'a', 'toplevel'),
      entryPath(dir, KEY, 'b', 'toplevel'),
      entryPath(dir, KEY, 'a', 'diskoScript'),
      entryPath(dir, KEY, 'a', 'diskoScriptNoDeps'),
    ];
    expect(new Set([base, ...variants]).size).toBe(variants.length + 1);
    // The same key, written with its fields in another order, is the same entry.
    const reordered = { expression: KEY.expression, settings: { 'pure-eval': true, system: 'x86_64-linux' }, nixCommand: ['nix'], nix: KEY.nix, flake: KEY.flake };
    expect(entryPath(dir, reordered, 'a', 'toplevel')).toBe(base);
  });

  it("the flake's identity changes with its narHash, its lastModified and any locked input, not with how the reference was written", () => {
    const id = (m: unknown) => {
      const identity = flakeIdentity(JSON.stringify(m));
      if (!identity.locked) throw new Error(identity.reason);
      return identity.identity;
    };
    const base = id(METADATA);
    expect(id({ ...METADATA, locked: { ...METADATA.locked, narHash: 'sha256-BBBB' } })).not.toBe(base);
    expect(id({ ...METADATA, lastModified: 1796303233, locked: { ...METADATA.locked, lastModified: 1796303233 } })).not.toBe(base);
    const nixpkgs = METADATA.locks.nodes.nixpkgs;
    expect(id({ ...METADATA, locks: { ...METADATA.locks, nodes: { ...METADATA.locks.nodes, nixpkgs: { ...nixpkgs, locked: { ...nixpkgs.locked, rev: 'b'.repeat(40), narHash: 'sha256-CCCC' } } } } })).not.toBe(base);
    expect(id({ ...METADATA, original: { path: '.', type: 'path' }, originalUrl: 'path:.', description: 'another' })).toBe(base);
    const identity = flakeIdentity(JSON.stringify(METADATA));
    expect(identity.locked && identity.url).toBe(METADATA.url);
  });

  it("a flake that does not lock is never cached: a dirty work tree, an input without a narHash, no narHash, not JSON", () => {
    const reason = (m: unknown) => {
      const identity = flakeIdentity(typeof m === 'string' ? m : JSON.stringify(m));
      return identity.locked ? 'locked' : identity.reason;
    };
    const git = { ...METADATA, locked: { type: 'git', url: 'file:///srv/fleet', narHash: 'sha256-AAAA', lastModified: 1 } };
    expect(reason(git)).toMatch(/dirty work tree/);
    expect(reason({ ...git, locked: { ...git.locked, rev: 'c'.repeat(40) }, revision: 'c'.repeat(40) })).toBe('locked');
    expect(reason({ ...git, locked: { ...git.locked, rev: 'c'.repeat(40), dirtyRev: 'c'.repeat(40) + '-dirty' } })).toMatch(/dirty/);
    expect(reason({ ...METADATA, locked: { type: 'path', path: '/srv/fleet' } })).toMatch(/does not lock/);
    const unlockedInput = { ...METADATA, locks: { ...METADATA.locks, nodes: { ...METADATA.locks.nodes, nixpkgs: { locked: { type: 'path', path: '/src/nixpkgs' } } } } };
    expect(reason(unlockedInput)).toMatch(/input nixpkgs is not locked/);
    expect(reason('error: not json')).toMatch(/no JSON/);
  });

  it('an impure Nix (pure-eval off) is never cached; the settings take bare values too', () => {
    expect(evaluationSettings(JSON.stringify({ ...CONFIG, 'pure-eval': { value: false } }))).toEqual({ reason: 'evaluation is impure (pure-eval is not true)' });
    const settings = evaluationSettings(JSON.stringify({ system: 'x86_64-linux', 'pure-eval': true }));
    expect('settings' in settings && settings.settings.system).toBe('x86_64-linux');
    expect(evaluationSettings('nope')).toEqual({ reason: 'nix printed no settings' });
  });

  it('lives under $XDG_CACHE_HOME/fleet/eval, else ~/.cache/fleet/eval, and nowhere without an absolute base', () => {
    expect(evalCacheDir({ XDG_CACHE_HOME: '/x', HOME: '/root' })).toBe('/x/fleet/eval');
    expect(evalCacheDir({ HOME: '/root' })).toBe('/root/.cache/fleet/eval');
    expect(evalCacheDir({ XDG_CACHE_HOME: 'rel' })).toBeNull();
    expect(evalCacheDir({})).toBeNull();
  });
});

describe('entries', () => {
  it('are written whole (no temp file left) and read back; corrupt, foreign or malformed entries are misses', () => {
    const dir = mkdtempSync(join(tmpdir(), 'evc-'));
    writeEntry(dir, KEY, 'a', 'toplevel', { drv: DRV, out: OUT });
    expect(readdirSync(dir)).toEqual([entryPath(dir, KEY, 'a', 'toplevel').slice(dir.length + 1)]);
    expect(readEntry(dir, KEY, 'a', 'toplevel')).toEqual({ drv: DRV, out: OUT });
    expect(readEntry(dir, KEY, 'b', 'toplevel')).toBeUndefined();

    const file = entryPath(dir, KEY, 'a', 'toplevel');
    writeFileSync(file, '{"format":1,"key":');
    expect(readEntry(dir, KEY, 'a', 'toplevel')).toBeUndefined();
    // Foreign: a file in its place written for another key (or host, or format).
    const foreign = (entry: object) => {
      writeFileSync(file, JSON.stringify({ format: 1, key: KEY, host: 'a', attribute: 'toplevel', drv: DRV, out: OUT, ...entry }));
      return readEntry(dir, KEY, 'a', 'toplevel');
    };
    expect(foreign({})).toEqual({ drv: DRV, out: OUT });
    expect(foreign({ key: { ...KEY, nix: 'nix (Nix) 2.30.0' } })).toBeUndefined();
    expect(foreign({ host: 'b' })).toBeUndefined();
    expect(foreign({ format: 2 })).toBeUndefined();
    expect(foreign({ out: 'relative/path' })).toBeUndefined();
    expect(foreign({ drv: OUT })).toBeUndefined();
    writeFileSync(file, 'null');
    expect(readEntry(dir, KEY, 'a', 'toplevel')).toBeUndefined();
  });

  it('a cache that cannot be written is only slower: no error', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'evc-')), 'a-file');
    writeFileSync(file, '');
    expect(() => writeEntry(join(file, 'eval'), KEY, 'a', 'toplevel', { drv: DRV, out: OUT })).not.toThrow();
  });

  it('keepEvaluation writes each attribute of the host when the cache is used, nothing when it is not', () => {
    const dir = mkdtempSync(join(tmpdir(), 'evc-'));
    const attributes = buildAttributes('/srv/fleet', 'b', { noDiskoDeps: true } as never);
    const disko = { drv: DRV.replace('nixos-system-a', 'disko-b'), out: OUT.replace('nixos-system-a', 'disko-b') };
    keepEvaluation({ use: false, reason: '--no-eval-cache' }, attributes, { toplevel: { drv: DRV, out: OUT }, diskoScript: disko });
    expect(readdirSync(dir)).toEqual([]);
    keepEvaluation({ use: true, dir, key: KEY }, attributes, { toplevel: { drv: DRV, out: OUT }, diskoScript: disko });
    expect(readEntry(dir, KEY, 'b', 'toplevel')).toEqual({ drv: DRV, out: OUT });
    // Keyed by the attribute Nix evaluated: the no-deps disko script is not the disko script.
    expect(readEntry(dir, KEY, 'b', 'diskoScriptNoDeps')).toEqual(disko);
    expect(readEntry(dir, KEY, 'b', 'diskoScript')).toBeUndefined();
  });
});

describe('lookupEvalCache', () => {
  it('--impure never caches, and asks nix nothing', async () => {
    const calls: string[][] = [];
    const lookup = await lookupEvalCache(lookupOptions({ impure: true, exec: fakeNix(calls) }));
    expect(lookup).toEqual({ state: { use: false, reason: '--impure evaluation is never cached' }, hits: [] });
    expect(calls).toEqual([]);
  });

  it('--no-eval-cache, an unknown Nix, a nix command of several words or no cache directory: not used', async () => {
    const reason = async (over: Partial<LookupOptions>) => {
      const { state } = await lookupEvalCache(lookupOptions(over));
      return state.use ? 'used' : state.reason;
    };
    expect(await reason({ disabled: true })).toBe('--no-eval-cache');
    expect(await reason({ nixVersion: '' })).toBe('the Nix version is unknown');
    expect(await reason({ commands: { ...lookupOptions().commands, nix: ['nix', '--store', '/other'] } })).toBe('commands.nix is more than one word');
    expect(await reason({ dir: null })).toMatch(/no cache directory/);
    expect(await reason({ exec: fakeNix([], { config: { ...CONFIG, 'pure-eval': { value: false } } }) })).toMatch(/impure/);
    expect(await reason({ exec: fakeNix([], { metadata: { ...METADATA, locked: { type: 'git', url: 'file:///srv', narHash: 'sha256-A' } } }) })).toMatch(/dirty work tree/);
  });

  it('answers a host whose every attribute is cached and valid in the store, with the locked reference to evaluate the others from', async () => {
    const options = lookupOptions();
    const key = await keyOf(options);
    expect(key.nix).toBe('nix (Nix) 2.8.0');
    expect(key.settings).toMatchObject({ system: 'x86_64-linux', 'pure-eval': true });
    writeEntry(options.dir!, key, 'a', 'toplevel', { drv: DRV, out: OUT });
    // b has its toplevel cached, not its disko script: b is evaluated (whole).
    writeEntry(options.dir!, key, 'b', 'toplevel', { drv: DRV.replace('-a-', '-b-'), out: OUT.replace('-a-', '-b-') });
    const calls: string[][] = [];
    const lookup = await lookupEvalCache({ ...options, exec: fakeNix(calls) });
    expect(lookup.hits).toEqual([{ host: 'a', outputs: { toplevel: { drv: DRV, out: OUT } } }]);
    expect(lookup.evalFlake).toBe(METADATA.url);
    // One validity check for all the paths; on Nix 2.8 the settings come from show-config.
    expect(calls.filter((c) => c[0] === 'nix-store')).toEqual([['nix-store', '--check-validity', '--print-invalid', DRV, OUT]]);
    expect(calls.some((c) => c[1] === 'show-config')).toBe(true);
  });

  it('a cached derivation or system no longer in the store is a miss; so is a validity check that fails', async () => {
    const options = lookupOptions();
    const key = await keyOf(options);
    writeEntry(options.dir!, key, 'a', 'toplevel', { drv: DRV, out: OUT });
    expect((await lookupEvalCache({ ...options, exec: fakeNix([], { invalid: [OUT] }) })).hits).toEqual([]);
    expect((await lookupEvalCache({ ...options, exec: fakeNix([], { invalid: [DRV] }) })).hits).toEqual([]);
    const failing: Exec = async (request) => (request.argv[0] === 'nix-store' ? { exitCode: 1, signal: null, stdout: '', stderr: 'error', timedOut: false } : fakeNix([])(request));
    expect((await lookupEvalCache({ ...options, exec: failing })).hits).toEqual([]);
  });

  it('asks `nix config show` from Nix 2.20 on, and nix-store beside an absolute nix', async () => {
    const calls: string[][] = [];
    const options = lookupOptions({ nixVersion: 'nix (Nix) 2.24.9', commands: { ...lookupOptions().commands, nix: ['/opt/nix/bin/nix'] }, exec: fakeNix(calls) });
    const key = await keyOf(options);
    writeEntry(options.dir!, key, 'a', 'toplevel', { drv: DRV, out: OUT });
    await lookupEvalCache(options);
    expect(calls.some((c) => c[0] === '/opt/nix/bin/nix' && c[1] === 'config' && c[2] === 'show')).toBe(true);
    expect(calls.some((c) => c[0] === '/opt/nix/bin/nix-store')).toBe(true);
  });
});

describe('the build stage with cached hosts', () => {
  it('hands cached hosts on as built without an evaluator, evaluates only the others and keeps what they evaluated', async () => {
    const store = mkdtempSync(join(tmpdir(), 'store-'));
    const dir = mkdtempSync(join(tmpdir(), 'evc-'));
    // Store-path shaped names (a hash of 32 base-32 characters), as the cache takes only those.
    const out = (h: string) => join(store, `${h.repeat(32)}-system`);
    const drv = (h: string) => `/nix/store/${h.repeat(32)}-system.drv`;
    writeFileSync(out('a'), '');
    const evalCache = { state: { use: true as const, dir, key: KEY }, evalFlake: 'path:/flake?narHash=x', hits: [{ host: 'a', outputs: { toplevel: { drv: drv('a'), out: out('a') } } }] };
    const plan = buildPlan(inventory([host('a'), host('b')]), { ...planOptions(), evalCache });
    expect(plan.build.cached?.map((c) => c.host)).toEqual(['a']);
    expect(plan.build.chunks.flatMap((c) => c.attributes.map((a) => a.host))).toEqual(['b']);
    expect(plan.build.chunks[0]!.evaluate.argv).toContain('path:/flake?narHash=x#nixosConfigurations');

    const calls: string[][] = [];
    const exec: Exec = async (request) => {
      calls.push([...request.argv]);
      if (request.argv[1] === 'eval') return ok(JSON.stringify([{ host: 'b', v: { toplevel: { drv: drv('b'), out: out('b') } } }]));
      writeFileSync(out('b'), '');
      return ok('[]');
    };
    const seen: string[] = [];
    const result = await runBuildStage(plan.build, plan.commands, plan.flake, exec, { onStart() {}, onLine() {}, onBuilt() {}, onFailed() {}, onReady: (h) => seen.push(h), onCached: (hosts, evaluating) => seen.push(`cached ${hosts.join(',')} +${evaluating}`) }, { evaluators: bounded(1) });
    expect(seen).toEqual(['cached a +1', 'a', 'b']);
    expect(result.cachedHosts).toBe(1);
    expect(result.evaluatedHosts).toBe(1);
    expect(result.evaluations).toBe(1);
    expect(calls.filter((c) => c[1] === 'eval').map((c) => c.find((w) => w.includes('#nixosConfigurations')))).toEqual(['path:/flake?narHash=x#nixosConfigurations']);
    expect(readEntry(dir, KEY, 'b', 'toplevel')).toEqual({ drv: drv('b'), out: out('b') });
  });

  it('a cached system that left the store after the plan was made fails its host with what to do, never silently', async () => {
    const store = mkdtempSync(join(tmpdir(), 'store-'));
    const gone = join(store, 'a-system');
    const evalCache = { state: { use: true as const, dir: store, key: KEY }, hits: [{ host: 'a', outputs: { toplevel: { drv: '/nix/store/a.drv', out: gone } } }] };
    const plan = buildPlan(inventory([host('a')]), { ...planOptions(), evalCache });
    const failures: string[] = [];
    const result = await runBuildStage(plan.build, plan.commands, plan.flake, async () => ok('[]'), { onStart() {}, onLine() {}, onBuilt() {}, onFailed: (h, f) => failures.push(`${h}: ${f.reason}`), onReady() {} }, { evaluators: bounded(1) });
    expect(failures).toEqual([`a: ${gone} (from the evaluation cache) left the store after the run was planned (garbage-collected?): run again to evaluate it anew`]);
    expect(result.cachedHosts).toBe(0);
    expect(existsSync(gone)).toBe(false);
  });

  it('--impure reaches the evaluator', () => {
    const plan = buildPlan(inventory([host('a')]), { ...planOptions(), impure: true });
    expect(plan.build.chunks[0]!.evaluate.argv).toContain('--impure');
    expect(plan.build.impure).toBe(true);
  });
});
