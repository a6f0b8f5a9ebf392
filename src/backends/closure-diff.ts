// What a deploy changes: the closure listing the diff script prints on a target, parsed, and the
// package-level difference between the system the host runs and the built one (as nvd and
// `nix store diff-closures` group it: by package name, compared by version). Pure.
import { HostError } from '../errors.js';

/** A package whose versions differ between the two closures (or that only one of them has). */
export interface PackageChange {
  /** The package name, as Nix splits a store path name: `lab-tool` of `lab-tool-1.1`. */
  name: string;
  /** Its versions in the running system (empty: not there). `''` is a path without a version. */
  from: string[];
  /** Its versions in the built system (empty: not there). */
  to: string[];
  /** NAR bytes of its paths in the built system minus in the running one. */
  sizeDelta: number;
}

/** Totals of both closures. */
export interface ClosureTotals {
  fromPaths: number;
  toPaths: number;
  /** Store paths only in the built closure / only in the running one (rebuilds count too). */
  pathsAdded: number;
  pathsRemoved: number;
  /** Sum of the NAR sizes of each closure. */
  fromBytes: number;
  toBytes: number;
}

/**
 * What changes on a host: `same` (it runs the built system), `not-installed` (nothing to compare
 * with: a bootstrap installs it whole), or the package changes between its live system and the
 * built one.
 */
export type ClosureDiff =
  | { kind: 'same'; system: string }
  | { kind: 'not-installed'; to: string }
  | {
      kind: 'changes';
      /** The live system (`/run/current-system`). */
      from: string;
      /** The built system. */
      to: string;
      /** In both, in other versions. */
      changed: PackageChange[];
      added: PackageChange[];
      removed: PackageChange[];
      closure: ClosureTotals;
    };

/** One store path of a closure and its NAR size in bytes. */
export interface ClosurePath {
  path: string;
  narSize: number;
}

/** What the diff script printed: the live system, the built one, and both closures when they differ. */
export interface ClosureListing {
  from: string;
  to: string;
  fromClosure: ClosurePath[];
  toClosure: ClosurePath[];
}

/**
 * Splits a store path's name as Nix does for diff-closures: an output suffix (`-man`, `-lib64`)
 * goes first, then the name ends at the first dash followed by a character that is not a letter.
 */
export function packageNameVersion(storePath: string): { name: string; version: string } {
  const base = storePath.slice(storePath.lastIndexOf('/') + 1);
  let name = /^[0-9a-z]{32}-/.test(base) ? base.slice(33) : base;
  const output = /^(.*)-([a-z]+|lib32|lib64)$/.exec(name);
  if (output) name = output[1] as string;
  for (let i = 0; i < name.length - 1; i++) {
    if (name[i] === '-' && !/[A-Za-z]/.test(name[i + 1] as string)) return { name: name.slice(0, i), version: name.slice(i + 1) };
  }
  return { name, version: '' };
}

/** Parses the diff script's answer; a cut-off or garbled one is an error naming the host. */
export function parseClosureListing(text: string, host: string): ClosureListing {
  const lines = text.split('\n');
  const bad = (why: string) => new HostError(host, 'diff', `the closure listing could not be read: ${why}`, lines.slice(-5));
  if (!lines.includes('end ok')) throw bad('it ended early (no "end ok")');
  let from: string | undefined;
  let to: string | undefined;
  const sections: Record<string, string[]> = {};
  let current: string[] | undefined;
  for (const line of lines) {
    if (line === 'end ok') break;
    const head = /^(from|to|paths|sizes) ?(.*)$/.exec(line);
    if (head && (head[1] === 'from' || head[1] === 'to') && current === undefined) {
      if (head[1] === 'from') from = head[2];
      else to = head[2];
      continue;
    }
    if (head && (head[1] === 'paths' || head[1] === 'sizes')) {
      current = [];
      sections[`${head[1]} ${head[2]}`] = current;
      continue;
    }
    if (current && line.trim()) current.push(line.trim());
  }
  if (from === undefined || to === undefined) throw bad('no "from"/"to" lines');
  const closure = (which: 'from' | 'to'): ClosurePath[] => {
    const paths = sections[`paths ${which}`] ?? [];
    const sizes = sections[`sizes ${which}`] ?? [];
    if (paths.length !== sizes.length) throw bad(`${paths.length} paths but ${sizes.length} sizes of the ${which} closure`);
    return paths.map((path, i) => {
      const narSize = Number(sizes[i]);
      if (!path.startsWith('/') || !Number.isSafeInteger(narSize)) throw bad(`unexpected line "${path}" / "${sizes[i]}"`);
      return { path, narSize };
    });
  };
  return { from, to, fromClosure: closure('from'), toClosure: closure('to') };
}

type Grouped = Map<string, Map<string, ClosurePath[]>>;

function group(closure: readonly ClosurePath[]): Grouped {
  const byName: Grouped = new Map();
  for (const entry of closure) {
    const { name, version } = packageNameVersion(entry.path);
    const versions = byName.get(name) ?? new Map<string, ClosurePath[]>();
    versions.set(version, [...(versions.get(version) ?? []), entry]);
    byName.set(name, versions);
  }
  return byName;
}

const bytes = (versions: Map<string, ClosurePath[]> | undefined): number =>
  [...(versions?.values() ?? [])].flat().reduce((sum, p) => sum + p.narSize, 0);

const byVersion = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });

/** The package-level difference of a listing (pure; the same listing always gives the same diff). */
export function diffClosures(listing: ClosureListing): ClosureDiff {
  if (!listing.from) return { kind: 'not-installed', to: listing.to };
  if (listing.from === listing.to) return { kind: 'same', system: listing.to };
  const before = group(listing.fromClosure);
  const after = group(listing.toClosure);
  const names = [...new Set([...before.keys(), ...after.keys()])].sort();
  const changed: PackageChange[] = [];
  const added: PackageChange[] = [];
  const removed: PackageChange[] = [];
  for (const name of names) {
    const from = [...(before.get(name)?.keys() ?? [])].sort(byVersion);
    const to = [...(after.get(name)?.keys() ?? [])].sort(byVersion);
    const change: PackageChange = { name, from, to, sizeDelta: bytes(after.get(name)) - bytes(before.get(name)) };
    if (from.length === 0) added.push(change);
    else if (to.length === 0) removed.push(change);
    else if (from.join('\0') !== to.join('\0')) changed.push(change);
  }
  const fromSet = new Set(listing.fromClosure.map((p) => p.path));
  const toSet = new Set(listing.toClosure.map((p) => p.path));
  return {
    kind: 'changes',
    from: listing.from,
    to: listing.to,
    changed,
    added,
    removed,
    closure: {
      fromPaths: fromSet.size,
      toPaths: toSet.size,
      pathsAdded: [...toSet].filter((p) => !fromSet.has(p)).length,
      pathsRemoved: [...fromSet].filter((p) => !toSet.has(p)).length,
      fromBytes: listing.fromClosure.reduce((sum, p) => sum + p.narSize, 0),
      toBytes: listing.toClosure.reduce((sum, p) => sum + p.narSize, 0),
    },
  };
}

/** `536 B`, `4.7 KiB`, `1.2 MiB`, `3.0 GiB` (binary units, as Nix prints sizes). */
export function formatBytes(bytes: number): string {
  const size = Math.abs(bytes);
  if (size < 1024) return `${size} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = size / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** A size change with its sign: `+8.0 KiB`, `-512 B`, `±0 B`. */
export function formatByteDelta(delta: number): string {
  if (delta === 0) return '±0 B';
  return `${delta > 0 ? '+' : '-'}${formatBytes(delta)}`;
}

export function formatVersions(list: readonly string[]): string {
  return list.length === 0 ? '∅' : list.map((v) => v || '(no version)').join(', ');
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** One line for the whole diff: `no changes`, `2 packages changed, 1 added; closure +8.1 KiB`. */
export function diffSummary(diff: ClosureDiff): string {
  switch (diff.kind) {
    case 'same':
      return 'no changes';
    case 'not-installed':
      return 'not NixOS yet: nothing to compare, a bootstrap installs the whole system';
    case 'changes': {
      const parts = [
        diff.changed.length > 0 ? `${plural(diff.changed.length, 'package')} changed` : '',
        diff.added.length > 0 ? `${diff.added.length} added` : '',
        diff.removed.length > 0 ? `${diff.removed.length} removed` : '',
      ].filter(Boolean);
      const what = parts.length > 0 ? parts.join(', ') : 'no package changes';
      return `${what}; closure ${formatByteDelta(diff.closure.toBytes - diff.closure.fromBytes)}`;
    }
    default: {
      const never: never = diff;
      throw new Error(`unknown diff ${JSON.stringify(never)}`);
    }
  }
}
