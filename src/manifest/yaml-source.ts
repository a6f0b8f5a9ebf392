// YAML text → plain data, and a way back from data paths to file:line:col for problems.
//
// Two readers. js-yaml reads a well-formed manifest into plain data several times faster and in a
// fraction of the memory of the `yaml` library's document tree (40,000 hosts: ~140 MB against
// ~500 MB). The `yaml` library, which keeps every node's position, is loaded and run only when a
// position is asked for (a problem to report) or when the fast reader cannot be trusted to give the
// same data: anything it refuses (syntax, duplicate keys, tags, several documents), shared nodes
// (aliases: the `yaml` library bounds their expansion), and integer-like host names (JS objects put
// them first, so the written order needs the document).
import { createRequire } from 'node:module';
import * as jsYaml from 'js-yaml';
import type { Pair, YAMLMap } from 'yaml';

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

// The YAML 1.2 core schema as the `yaml` library reads it, and `<<` merges (its `merge: true`).
// Integers and floats are its own patterns: js-yaml's differ at the edges (`-.5`, `0b101`).
const CORE_INT = /^[-+]?[0-9]+$/;
const CORE_OCTAL = /^0o[0-7]+$/;
const CORE_HEX = /^0x[0-9a-fA-F]+$/;
const CORE_FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/;
const CORE_SPECIAL_FLOAT = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;
const jsYamlTypes = (jsYaml as unknown as { types: Record<'null' | 'bool' | 'merge', jsYaml.Type> }).types;
const FAST_SCHEMA = jsYaml.FAILSAFE_SCHEMA.extend({
  implicit: [
    jsYamlTypes.null,
    jsYamlTypes.bool,
    new jsYaml.Type('tag:yaml.org,2002:int', {
      kind: 'scalar',
      resolve: (text: string) => CORE_INT.test(text) || CORE_OCTAL.test(text) || CORE_HEX.test(text),
      construct: (text: string) =>
        CORE_OCTAL.test(text) ? parseInt(text.slice(2), 8) : CORE_HEX.test(text) ? parseInt(text.slice(2), 16) : parseInt(text, 10),
    }),
    new jsYaml.Type('tag:yaml.org,2002:float', {
      kind: 'scalar',
      resolve: (text: string) => CORE_FLOAT.test(text) || CORE_SPECIAL_FLOAT.test(text),
      construct: (text: string) =>
        CORE_SPECIAL_FLOAT.test(text)
          ? text.endsWith('nan') || text.endsWith('NaN') || text.endsWith('NAN')
            ? NaN
            : text.startsWith('-')
              ? -Infinity
              : Infinity
          : parseFloat(text),
    }),
    jsYamlTypes.merge,
  ],
});

const INTEGER_LIKE = /^(0|[1-9][0-9]*)$/;

/** Parses manifest text; positions are worked out only when asked for. Never throws for bad input. */
export function readYaml(text: string): YamlSource {
  const data = readFast(text);
  if (data === undefined) return readWithPositions(text);
  let withPositions: YamlSource | undefined;
  const positions = (): YamlSource => (withPositions ??= readWithPositions(text));
  return {
    data,
    syntaxErrors: [],
    duplicateKeys: [],
    locate: (path, anchor) => positions().locate(path, anchor),
    keysAt: (path) => {
      let node: unknown = data;
      for (const segment of path) node = isPlainObject(node) ? node[String(segment)] : undefined;
      if (!isPlainObject(node)) return [];
      const keys = Object.keys(node);
      return keys.some((key) => INTEGER_LIKE.test(key)) ? positions().keysAt(path) : keys;
    },
  };
}

/** The data as js-yaml reads it, or undefined where only the `yaml` library's reading will do. */
function readFast(text: string): unknown {
  let data: unknown;
  try {
    data = jsYaml.load(text, { schema: FAST_SCHEMA });
  } catch {
    return undefined;
  }
  if (data === undefined || data === null || typeof data !== 'object') return undefined;
  return isTree(data) ? data : undefined;
}

/** No object reached twice: every node written once, none shared through an alias. */
function isTree(root: object): boolean {
  const seen = new Set<object>();
  const stack: object[] = [root];
  while (stack.length > 0) {
    const node = stack.pop() as object;
    if (seen.has(node)) return false;
    seen.add(node);
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (typeof child === 'object' && child !== null) stack.push(child);
    }
  }
  return true;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The `yaml` library, loaded on first use (it is most of a manifest reading's start-up cost). */
let yamlLibrary: typeof import('yaml') | undefined;
function yamlLib(): typeof import('yaml') {
  return (yamlLibrary ??= createRequire(import.meta.url)('yaml') as typeof import('yaml'));
}

/** Parses manifest text with the `yaml` library, keeping every node's position. */
function readWithPositions(text: string): YamlSource {
  const { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument } = yamlLib();
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
  if (yamlLib().isScalar(key)) return typeof key.value === 'symbol' ? '<<' : String(key.value);
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
