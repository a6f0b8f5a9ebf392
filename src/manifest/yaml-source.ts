// YAML text → plain data, and a way back from data paths to file:line:col for problems: the `yaml`
// library, which keeps every node's position and reads the YAML 1.2 core schema.
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Pair, type YAMLMap } from 'yaml';

/** One step into the data: a mapping key or a list index. */
export type PathSegment = string | number;

/** A 1-based position in the manifest text. */
export interface Position {
  line: number;
  column: number;
}

/** A problem before it is tied to a file name. */
export interface LocatedMessage extends Position {
  message: string;
}

/** What to point at for a path: the value there, or the key that names it. */
export type Anchor = 'value' | 'key';

/** A parsed manifest text: its data, syntax problems, and a way back from data paths to positions. */
export interface YamlSource {
  /** The plain data (undefined when the text has no content or YAML errors). */
  data: unknown;
  /** YAML syntax errors (fatal: nothing else is checked) and duplicate keys (not fatal). */
  syntaxErrors: LocatedMessage[];
  duplicateKeys: LocatedMessage[];
  /** Position of the node at `path` (or of its key); falls back to the deepest ancestor found. */
  locate(path: readonly PathSegment[], anchor?: Anchor): Position;
  /** Keys of the mapping at `path`, in the order written. */
  keysAt(path: readonly PathSegment[]): string[];
}

const START: Position = { line: 1, column: 1 };

/** Parses manifest text, keeping every node's position. Never throws for bad input. */
export function readYaml(text: string): YamlSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter,
    prettyErrors: false,
    // Duplicates are found by our own walk below, which knows the path and can say it plainly.
    uniqueKeys: false,
    merge: true,
  });

  const at = (offset: number): Position => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const nodePos = (node: unknown): Position | undefined => {
    const range = (node as { range?: [number, number, number] } | null)?.range;
    return range ? at(range[0]) : undefined;
  };

  const syntaxErrors: LocatedMessage[] = doc.errors.map((e) => ({
    ...at(e.pos[0]),
    message: `invalid YAML: ${e.message}`,
  }));

  let data: unknown;
  if (syntaxErrors.length === 0) {
    try {
      data = doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      syntaxErrors.push({ ...START, message: `invalid YAML: ${(e as Error).message}` });
    }
  }

  const resolve = (node: unknown): unknown => (isAlias(node) ? node.resolve(doc) : node);

  // Each mapping's own pairs by key and its `<<` merges, built on first lookup, so that locating
  // many problems in a big mapping (hosts) stays linear.
  const pairIndex = new WeakMap<YAMLMap, { own: Map<string, Pair>; merges: Pair[] }>();
  const indexOf = (map: YAMLMap): { own: Map<string, Pair>; merges: Pair[] } => {
    let index = pairIndex.get(map);
    if (!index) {
      index = { own: new Map(), merges: [] };
      for (const pair of map.items as Pair[]) {
        const key = keyText(pair.key);
        // With a duplicated key the data holds the last value, so that is the one to point at.
        index.own.set(key, pair);
        if (key === '<<') index.merges.push(pair);
      }
      pairIndex.set(map, index);
    }
    return index;
  };

  /** The pair for `key` in a mapping, looking through `<<` merges. */
  const findPair = (map: YAMLMap, key: string, depth = 0): Pair | undefined => {
    const { own, merges } = indexOf(map);
    const found = own.get(key);
    if (found) return found;
    if (depth > 8) return undefined;
    for (const pair of merges) {
      const sources = isSeq(pair.value) ? pair.value.items : [pair.value];
      for (const source of sources) {
        const target = resolve(source);
        if (isMap(target)) {
          const inner = findPair(target, key, depth + 1);
          if (inner) return inner;
        }
      }
    }
    return undefined;
  };

  const locate = (path: readonly PathSegment[], anchor: Anchor = 'value'): Position => {
    let node: unknown = doc.contents;
    let pos = nodePos(node) ?? START;
    for (let i = 0; i < path.length; i++) {
      const segment = path[i] as PathSegment;
      const container = resolve(node);
      let keyPos: Position | undefined;
      if (isMap(container)) {
        const pair = findPair(container, String(segment));
        if (!pair) return pos;
        keyPos = nodePos(pair.key);
        node = pair.value;
      } else if (isSeq(container)) {
        const item = container.items[Number(segment)];
        if (item === undefined) return pos;
        node = item;
      } else {
        return pos;
      }
      const last = i === path.length - 1;
      if (last && anchor === 'key' && keyPos) return keyPos;
      // An empty value (`mode:`) sits after the colon; point at its key instead.
      const empty = isScalar(node) && node.value === null && node.range?.[0] === node.range?.[1];
      pos = (empty ? keyPos : nodePos(node)) ?? keyPos ?? pos;
    }
    return pos;
  };

  const keysAt = (path: readonly PathSegment[]): string[] => {
    let node: unknown = doc.contents;
    for (const segment of path) {
      const container = resolve(node);
      if (isMap(container)) node = findPair(container, String(segment))?.value;
      else if (isSeq(container)) node = container.items[Number(segment)];
      else return [];
    }
    const map = resolve(node);
    if (!isMap(map)) return [];
    const keys = new Set<string>();
    for (const pair of map.items) {
      const key = keyText(pair.key);
      if (key !== '<<') keys.add(key);
    }
    return [...keys];
  };

  const duplicateKeys: LocatedMessage[] = [];
  // One path stack for the whole walk: a path is copied only for a message.
  const path: PathSegment[] = [];
  const walk = (node: unknown): void => {
    if (isMap(node)) {
      const seen = new Set<string>();
      for (const pair of node.items) {
        const key = keyText(pair.key);
        if (key !== '<<' && seen.has(key)) {
          const where = path.length === 0 ? '' : `${formatPath(path)}: `;
          duplicateKeys.push({
            ...(nodePos(pair.key) ?? START),
            message: `${where}duplicate key ${JSON.stringify(key)}`,
          });
        }
        seen.add(key);
        path.push(key);
        walk(pair.value);
        path.pop();
      }
    } else if (isSeq(node)) {
      for (let index = 0; index < node.items.length; index++) {
        path.push(index);
        walk(node.items[index]);
        path.pop();
      }
    }
  };
  if (syntaxErrors.length === 0) walk(doc.contents);

  return { data, syntaxErrors, duplicateKeys, locate, keysAt };
}

function keyText(key: unknown): string {
  // yaml represents a merge key's value as a symbol.
  if (isScalar(key)) return typeof key.value === 'symbol' ? '<<' : String(key.value);
  return String(key);
}

const PLAIN_SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

/** A data path for humans: `hosts.web-1.healthChecks[0].name`; odd keys are quoted. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (PLAIN_SEGMENT.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}
