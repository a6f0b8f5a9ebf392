// The fleet-wide evaluation cache: each host's evaluated outputs (derivation and store path per build
// attribute) kept under $XDG_CACHE_HOME/fleet/eval, keyed by everything that determines them. Sound or
// nothing: whatever fleet cannot prove locked, pure and still in the store is a miss, never an error.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import type { Exec } from '../exec/index.js';
import type { ToolCommands } from '../manifest/inventory.js';
import {
  evalApplyFunction,
  flakeMetadataCommand,
  installableAttribute,
  nixConfigCommand,
  nixEvalCommand,
  storeValidityCommand,
  type BuildAttribute,
  type CachedHost,
  type EvalCacheKey,
  type EvalCacheState,
  type EvaluatedOutput,
} from '../plan/index.js';

/** The layout of an entry; another version is a foreign entry (a miss). */
export const EVAL_CACHE_FORMAT = 1;

/** Where the evaluation cache lives: $XDG_CACHE_HOME/fleet/eval, else ~/.cache/fleet/eval; null: nowhere. */
export function evalCacheDir(env: Readonly<Record<string, string | undefined>>): string | null {
  const base = env.XDG_CACHE_HOME || (env.HOME ? join(env.HOME, '.cache') : '');
  return isAbsolute(base) ? join(base, 'fleet', 'eval') : null;
}

/** JSON with every object's keys sorted, so that equal values hash equally. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Source types whose lock is a revision: without one (a dirty work tree) Nix itself does not cache. */
const REVISION_LOCKED = new Set(['git', 'hg', 'mercurial', 'github', 'gitlab', 'sourcehut']);

/** The parts of `nix flake metadata --json` that name the reference as written, not what it locked to. */
const AS_WRITTEN = new Set(['description', 'original', 'originalUrl', 'resolved', 'resolvedUrl']);

/** What `nix flake metadata --json` says of a flake: its locked identity and reference, or why it does not lock. */
export type FlakeIdentity = { locked: true; identity: string; url: string } | { locked: false; reason: string };

/**
 * The flake's locked identity from `nix flake metadata --json`: it locks when its source has a
 * narHash (and, for a repository, a revision: a dirty work tree has none) and every input of its
 * lock file has a narHash. The identity hashes everything the metadata says of the locked source
 * and inputs (narHash, revision, lastModified, the lock file), so any change is a new key.
 */
export function flakeIdentity(metadataJson: string): FlakeIdentity {
  let metadata: Record<string, unknown>;
  try {
    metadata = JSON.parse(metadataJson) as Record<string, unknown>;
  } catch {
    return { locked: false, reason: 'nix flake metadata printed no JSON' };
  }
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) return { locked: false, reason: 'nix flake metadata printed no JSON object' };
  const locked = metadata.locked as Record<string, unknown> | undefined;
  if (!locked || typeof locked !== 'object' || typeof locked.narHash !== 'string') return { locked: false, reason: 'the flake does not lock (no narHash)' };
  if ('dirtyRev' in locked || 'dirtyRevision' in metadata) return { locked: false, reason: 'the flake is a dirty work tree' };
  if (REVISION_LOCKED.has(String(locked.type)) && typeof locked.rev !== 'string') return { locked: false, reason: 'the flake is a dirty work tree (no revision)' };
  if (typeof metadata.url !== 'string' || metadata.url === '') return { locked: false, reason: 'nix flake metadata names no locked reference' };
  const locks = metadata.locks as { root?: unknown; nodes?: Record<string, { locked?: { narHash?: unknown } }> } | undefined;
  if (!locks || typeof locks.nodes !== 'object' || locks.nodes === null) return { locked: false, reason: 'nix flake metadata shows no lock file' };
  for (const [name, node] of Object.entries(locks.nodes)) {
    if (name === locks.root) continue;
    if (typeof node?.locked?.narHash !== 'string') return { locked: false, reason: `the flake's input ${name} is not locked` };
  }
  const identity = Object.fromEntries(Object.entries(metadata).filter(([k]) => !AS_WRITTEN.has(k)));
  return { locked: true, identity: sha256(canonical(identity)), url: metadata.url };
}

/** Nix settings that change what an evaluation yields (the rest only change how it runs). */
export const EVAL_SETTINGS = ['system', 'eval-system', 'extra-platforms', 'pure-eval', 'restrict-eval', 'allow-import-from-derivation', 'allowed-uris', 'store'] as const;

/**
 * The evaluation settings from `nix show-config --json` (`nix config show --json`): each one's
 * value, or why the evaluation cannot be cached (not pure).
 */
export function evaluationSettings(configJson: string): { settings: Record<string, unknown> } | { reason: string } {
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(configJson) as Record<string, unknown>;
  } catch {
    return { reason: 'nix printed no settings' };
  }
  if (config === null || typeof config !== 'object') return { reason: 'nix printed no settings' };
  const settings: Record<string, unknown> = {};
  for (const name of EVAL_SETTINGS) {
    const entry = config[name];
    // Nix ≥ 2.4 prints `{ value, defaultValue, … }` per setting; the bare value is taken too.
    settings[name] = entry !== null && typeof entry === 'object' && !Array.isArray(entry) && 'value' in entry ? (entry as { value: unknown }).value : entry;
  }
  if (typeof settings.system !== 'string' || settings.system === '') return { reason: 'nix names no system' };
  if (settings['pure-eval'] !== true) return { reason: 'evaluation is impure (pure-eval is not true)' };
  return { settings };
}

/**
 * The version of fleet's evaluation expression: a hash of the expression and argv it evaluates
 * with, for sample attributes. Any change to how fleet asks Nix for a host's outputs is a new key.
 */
export function expressionVersion(): string {
  const sample: BuildAttribute[] = [
    { host: 'h', output: 'toplevel', installable: 'F#nixosConfigurations."h".config.system.build.toplevel' },
    { host: 'h', output: 'diskoScript', installable: 'F#nixosConfigurations."h".config.system.build.diskoScript' },
  ];
  const argv = nixEvalCommand({ nix: ['nix'], nixosRebuild: [], nixosAnywhere: [], nixosInstall: [] }, 'F', sample).argv;
  return sha256(canonical([EVAL_CACHE_FORMAT, evalApplyFunction(sample), argv]));
}

/** The file of one host's attribute under `key`. */
export function entryPath(dir: string, key: EvalCacheKey, host: string, attribute: string): string {
  return join(dir, `${sha256(canonical({ format: EVAL_CACHE_FORMAT, key, host, attribute }))}.json`);
}

interface Entry {
  format: number;
  key: EvalCacheKey;
  host: string;
  attribute: string;
  drv: string;
  out: string;
}

/** A store path as Nix prints one: absolute, in a store directory, `<32 chars>-<name>`. */
const STORE_PATH = /^\/(?:[^/\0]+\/)*[0-9a-df-np-sv-z]{32}-[A-Za-z0-9+\-._?=]+$/;

/**
 * The cached outputs of a host's attribute, or undefined: absent, unreadable, corrupt, or written
 * for another key (a foreign entry) are all misses.
 */
export function readEntry(dir: string, key: EvalCacheKey, host: string, attribute: string): EvaluatedOutput | undefined {
  let entry: Partial<Entry>;
  try {
    entry = JSON.parse(readFileSync(entryPath(dir, key, host, attribute), 'utf8')) as Partial<Entry>;
  } catch {
    return undefined;
  }
  if (entry === null || typeof entry !== 'object') return undefined;
  if (entry.format !== EVAL_CACHE_FORMAT || entry.host !== host || entry.attribute !== attribute) return undefined;
  if (canonical(entry.key) !== canonical(key)) return undefined;
  if (typeof entry.drv !== 'string' || typeof entry.out !== 'string') return undefined;
  if (!STORE_PATH.test(entry.drv) || !entry.drv.endsWith('.drv') || !STORE_PATH.test(entry.out)) return undefined;
  return { drv: entry.drv, out: entry.out };
}

/** Keeps one evaluated output: whole or not at all (temp file + rename); a cache that cannot be written is only slower. */
export function writeEntry(dir: string, key: EvalCacheKey, host: string, attribute: string, output: EvaluatedOutput): void {
  const file = entryPath(dir, key, host, attribute);
  const partial = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const entry: Entry = { format: EVAL_CACHE_FORMAT, key, host, attribute, drv: output.drv, out: output.out };
    writeFileSync(partial, `${JSON.stringify(entry)}\n`, { mode: 0o600 });
    renameSync(partial, file);
  } catch {
    try {
      rmSync(partial, { force: true });
    } catch {
      // Nothing was written, or nothing can be removed there: either way no entry exists by it.
    }
  }
}

/** Keeps a host's evaluated outputs, when the run uses the cache. */
export function keepEvaluation(state: EvalCacheState | undefined, attributes: readonly BuildAttribute[], outputs: Partial<Record<BuildAttribute['output'], EvaluatedOutput>>): void {
  if (!state?.use) return;
  for (const a of attributes) {
    const output = outputs[a.output];
    if (output && typeof output.drv === 'string' && typeof output.out === 'string') writeEntry(state.dir, state.key, a.host, installableAttribute(a.installable), output);
  }
}

/** The paths `nix-store --check-validity --print-invalid` names (one a line). */
export function invalidPaths(stdout: string): Set<string> {
  return new Set(stdout.split('\n').map((line) => line.trim()).filter(Boolean));
}

/** What the cache answers for a run: whether it is used, the flake the evaluators read, and each host it answers whole. */
export interface EvalCacheLookup {
  state: EvalCacheState;
  /** The locked flake reference (what the key names is what is evaluated), when the cache is used. */
  evalFlake?: string;
  hits: CachedHost[];
}

export interface LookupOptions {
  commands: ToolCommands;
  flake: string;
  /** `nix --version` ('' when unknown: no cache). */
  nixVersion: string;
  /** Every attribute the run would evaluate. */
  attributes: readonly BuildAttribute[];
  /** --impure: never cached. */
  impure: boolean;
  /** --no-eval-cache: evaluate everything, keep nothing. */
  disabled: boolean;
  /** evalCacheDir(); null: no cache. */
  dir: string | null;
  exec: Exec;
  signal?: AbortSignal;
}

function off(reason: string): EvalCacheLookup {
  return { state: { use: false, reason }, hits: [] };
}

/** `nix config show` exists from Nix 2.20 on; `show-config` before it. */
function configSubcommand(nixVersion: string): string[] {
  const match = nixVersion.match(/(\d+)\.(\d+)/);
  const modern = match ? Number(match[1]) > 2 || (Number(match[1]) === 2 && Number(match[2]) >= 20) : false;
  return modern ? ['config', 'show'] : ['show-config'];
}

/**
 * Looks every attribute up: the flake's metadata and Nix's settings (two calls at once) make the
 * key; a host is a hit when each of its attributes has an entry whose derivation and output are
 * both still valid in the local store (one call for all). Anything in doubt is a miss.
 */
export async function lookupEvalCache(options: LookupOptions): Promise<EvalCacheLookup> {
  const { commands, exec, signal } = options;
  if (options.disabled) return off('--no-eval-cache');
  if (options.impure) return off('--impure evaluation is never cached');
  if (!options.dir) return off('no cache directory ($XDG_CACHE_HOME or $HOME)');
  if (!options.nixVersion) return off('the Nix version is unknown');
  // Any other words (`nix run …`, `--store …`) leave in doubt which Nix and which store answer.
  if (commands.nix.length !== 1) return off('commands.nix is more than one word');
  if (options.attributes.length === 0) return off('nothing to evaluate');
  const nix = commands.nix[0]!;
  const ask = (argv: string[]) => exec({ argv, signal, timeoutMs: 120_000 }).catch(() => undefined);
  const [metadata, config] = await Promise.all([
    ask(flakeMetadataCommand(commands, options.flake)),
    ask(nixConfigCommand(commands, configSubcommand(options.nixVersion))),
  ]);
  if (metadata?.exitCode !== 0) return off('nix flake metadata failed');
  const flake = flakeIdentity(metadata.stdout);
  if (!flake.locked) return off(flake.reason);
  if (config?.exitCode !== 0) return off('nix could not show its settings');
  const settings = evaluationSettings(config.stdout);
  if ('reason' in settings) return off(settings.reason);
  const key: EvalCacheKey = { flake: flake.identity, nix: options.nixVersion, nixCommand: [...commands.nix], settings: settings.settings, expression: expressionVersion() };
  const state: EvalCacheState = { use: true, dir: options.dir, key };

  const found = new Map<string, Partial<Record<BuildAttribute['output'], EvaluatedOutput>>>();
  const missed = new Set<string>();
  for (const a of options.attributes) {
    const output = missed.has(a.host) ? undefined : readEntry(options.dir, key, a.host, installableAttribute(a.installable));
    if (!output) {
      missed.add(a.host);
      continue;
    }
    found.set(a.host, { ...found.get(a.host), [a.output]: output });
  }
  for (const host of missed) found.delete(host);
  const paths = [...found.values()].flatMap((outputs) => Object.values(outputs).flatMap((o) => (o ? [o.drv, o.out] : [])));
  if (paths.length > 0) {
    // nix-store of the same Nix (beside it, or on PATH as it is): a local check, no substituter asked.
    const nixStore = nix.includes('/') ? join(dirname(nix), 'nix-store') : 'nix-store';
    const validity = await ask(storeValidityCommand(nixStore, paths));
    const invalid = validity?.exitCode === 0 ? invalidPaths(validity.stdout) : undefined;
    for (const [host, outputs] of found) {
      if (!invalid || Object.values(outputs).some((o) => o && (invalid.has(o.drv) || invalid.has(o.out)))) found.delete(host);
    }
  }
  // In the order asked, so the plan reads as the manifest does.
  const hosts = [...new Set(options.attributes.map((a) => a.host))].filter((h) => found.has(h));
  return { state, evalFlake: flake.url, hits: hosts.map((host) => ({ host, outputs: found.get(host)! })) };
}
