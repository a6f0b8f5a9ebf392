// Reading fleet.yaml: find the file, parse with positions, validate, resolve; every problem at once.
import { open } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { FleetError, ManifestError, type ManifestProblem } from '../errors.js';
import type { Inventory } from './inventory.js';
import { resolveInventory, type ResolveContext } from './resolve.js';
import type { FleetManifest } from './schema-types.js';
import { schemaProblems, showValue, type PathProblem } from './validate.js';
import { readYaml, type LocatedMessage, type PathSegment } from './yaml-source.js';

/** Environment variables the manifest reads: `HOME` for `~/` paths. */
export type ManifestEnv = Readonly<Record<string, string | undefined>>;

/** Options of {@link parseManifest}. */
export interface ParseOptions {
  /** For `~/` in paths (HOME). Default: none, so `~/` is an error. */
  env?: ManifestEnv;
  /** Absolute path recorded as `Inventory.manifestPath`. Default: `<baseDir>/<basename of fileName>`. */
  manifestPath?: string;
}

/** Options of {@link loadManifest}. */
export interface LoadOptions {
  /** Default: `process.env`. */
  env?: ManifestEnv;
  /** Directory that problem locations are shown relative to. Default: `process.cwd()`. */
  cwd?: string;
}

/**
 * The largest manifest fleet reads: 16 MiB, about 90,000 hosts written out one by one. A bigger
 * file is refused before it is read, so a wrong `-f` or a runaway generator cannot take minutes
 * and gigabytes to fail.
 */
export const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;

/** The file name used when neither `-f` nor `FLEET_FILE` says otherwise. */
export const DEFAULT_MANIFEST = 'fleet.yaml';

/**
 * Which manifest to read: the `-f/--file` flag, else `$FLEET_FILE`, else `./fleet.yaml`,
 * as an absolute path (relative ones are taken from `cwd`). Empty values count as unset.
 */
export function resolveManifestPath(
  flag: string | undefined,
  env: ManifestEnv,
  cwd: string,
): string {
  const chosen = [flag, env['FLEET_FILE']].find((v): v is string => v !== undefined && v !== '');
  return resolve(cwd, chosen ?? DEFAULT_MANIFEST);
}

/**
 * Parses and validates manifest text without touching the disk (beyond the bundled schema).
 * `fileName` is what problems are reported against; relative paths in the manifest are resolved
 * against `baseDir`. Throws {@link ManifestError} with every problem found.
 */
export function parseManifest(
  text: string,
  fileName: string,
  baseDir: string,
  options: ParseOptions = {},
): Inventory {
  const source = readYaml(text);
  const problem = (p: LocatedMessage): ManifestProblem => ({
    file: fileName,
    line: p.line,
    column: p.column,
    message: p.message,
  });
  const fail = (list: LocatedMessage[]): never => {
    throw new ManifestError(sortProblems(list.map(problem)));
  };

  if (source.syntaxErrors.length > 0) fail(source.syntaxErrors);
  const data = source.data;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    fail([
      ...source.duplicateKeys,
      {
        line: 1,
        column: 1,
        message: `the manifest must be a mapping with at least "version: 1" (got ${showValue(data)})`,
      },
    ]);
  }

  const fromSchema = schemaProblems(data);
  const { isDirty, isBroken } = dirtyPaths(fromSchema.map((p) => p.scope ?? p.path));

  const fromResolve: PathProblem[] = [];
  const baseAbs = resolve(baseDir);
  const inventory = resolveInventory(
    data as FleetManifest,
    {
      baseDir: baseAbs,
      manifestPath: options.manifestPath ?? join(baseAbs, basename(fileName)),
      env: options.env ?? {},
      hostOrder: hostOrder(data as FleetManifest, source.keysAt(['hosts'])),
      isDirty,
      isBroken,
    },
    fromResolve,
  );

  const located: LocatedMessage[] = [...fromSchema, ...fromResolve].map((p) => ({
    ...source.locate(p.path, p.anchor),
    message: p.message,
  }));
  const all = [...source.duplicateKeys, ...located];
  if (all.length > 0) fail(all);
  return inventory;
}

/**
 * Reads, validates and resolves the manifest at `path`. A missing file is a {@link FleetError}
 * (code `MANIFEST`); anything wrong inside it is a {@link ManifestError} listing every problem.
 */
export async function loadManifest(path: string, options: LoadOptions = {}): Promise<Inventory> {
  const cwd = options.cwd ?? process.cwd();
  const absolute = resolve(cwd, path);
  const shown = relative(cwd, absolute);
  const fileName = shown !== '' && !shown.startsWith('..') && !isAbsolute(shown) ? shown : absolute;
  const text = await readManifestText(absolute, fileName);
  return parseManifest(text, fileName, dirname(absolute), {
    env: options.env ?? process.env,
    manifestPath: absolute,
  });
}

/** The file's text, refusing one over {@link MAX_MANIFEST_BYTES} before reading it (or, for a pipe, as soon as it passes the limit). */
async function readManifestText(absolute: string, fileName: string): Promise<string> {
  const name = basename(absolute);
  const hint = 'pass -f <file>, set FLEET_FILE, or start from fleet.example.yaml';
  const unreadable = (e: unknown): FleetError => {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return new FleetError(`${name}: no such file (looked in ${absolute})`, 'MANIFEST', hint);
    if (code === 'EISDIR') return new FleetError(`${name}: is a directory (${absolute})`, 'MANIFEST', hint);
    return new FleetError(`${name}: cannot read ${absolute} (${code ?? (e as Error).message})`, 'MANIFEST');
  };
  const limit = `${MAX_MANIFEST_BYTES / 1024 / 1024} MiB`;
  const tooBig = (size?: string): FleetError =>
    new FleetError(
      size === undefined
        ? `${fileName}: the manifest is over the limit of ${limit}; reading stopped there`
        : `${fileName}: the manifest is ${size}, over the limit of ${limit}; not read`,
      'MANIFEST',
      'is -f the right file? a host takes a few hundred bytes, so the limit holds tens of thousands of hosts; put what hosts share in defaults',
    );

  const file = await open(absolute, 'r').catch((e: unknown) => {
    throw unreadable(e);
  });
  try {
    const stat = await file.stat();
    if (stat.isDirectory()) throw unreadable(Object.assign(new Error('is a directory'), { code: 'EISDIR' }));
    if (stat.size > MAX_MANIFEST_BYTES) throw tooBig(`${(stat.size / 1024 / 1024).toFixed(1)} MiB`);
    // Chunks until the end or past the limit: a pipe or a device has no size to check beforehand.
    const chunks: Buffer[] = [];
    let length = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(1024 * 1024);
      const { bytesRead } = await file.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      length += bytesRead;
      if (length > MAX_MANIFEST_BYTES) throw tooBig();
    }
    return Buffer.concat(chunks, length).toString('utf8');
  } catch (e) {
    if (e instanceof FleetError) throw e;
    throw unreadable(e);
  } finally {
    await file.close();
  }
}

/** A trie of data paths with a problem. */
interface DirtyNode {
  end: boolean;
  children: Map<PathSegment, DirtyNode>;
}

/**
 * Whether a path is at, under or above a path with a problem (`isDirty`), or at or under one
 * (`isBroken`: the value there cannot be read at all), in time proportional to the path's length
 * (not to the number of problems: a big manifest may have one per host).
 */
function dirtyPaths(paths: readonly (readonly PathSegment[])[]): Pick<ResolveContext, 'isDirty' | 'isBroken'> {
  const root: DirtyNode = { end: false, children: new Map() };
  for (const path of paths) {
    let node = root;
    for (const segment of path) {
      let child = node.children.get(segment);
      if (!child) {
        child = { end: false, children: new Map() };
        node.children.set(segment, child);
      }
      node = child;
    }
    node.end = true;
  }
  /** The node at `path`, or `broken` when a problem lies on the way to it (or at it), or undefined. */
  const walk = (path: readonly PathSegment[]): typeof root | 'broken' | undefined => {
    let node = root;
    for (const segment of path) {
      if (node.end) return 'broken';
      const child = node.children.get(segment);
      if (!child) return undefined;
      node = child;
    }
    return node.end ? 'broken' : node;
  };
  // `path` itself, or something beneath it, or above it, has a problem.
  const isDirty = (path: readonly PathSegment[]): boolean => {
    const node = walk(path);
    return node === 'broken' || (node !== undefined && node.children.size > 0);
  };
  const isBroken = (path: readonly PathSegment[]): boolean => walk(path) === 'broken';
  return { isDirty, isBroken };
}

/** Host names in the order written (object key order would put numeric names first). */
function hostOrder(data: FleetManifest, written: string[]): string[] {
  const names = new Set(Object.keys(data.hosts ?? {}));
  const order = new Set(written.filter((name) => names.has(name)));
  for (const name of names) order.add(name);
  return [...order];
}

function sortProblems(problems: ManifestProblem[]): ManifestProblem[] {
  const seen = new Set<string>();
  return problems
    .filter((p) => {
      const key = `${p.line}:${p.column}:${p.message}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .sort((a, b) => a.line - b.line || a.column - b.column || a.message.localeCompare(b.message));
}
