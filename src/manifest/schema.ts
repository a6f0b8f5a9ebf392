// The manifest's JSON Schema as data, and the human phrases that describe its nodes (errors and docs).
import { readFileSync } from 'node:fs';

/** A node of the manifest schema, loosely typed: the schema file is the source of truth. */
export interface SchemaNode {
  $schema?: string;
  $id?: string;
  $ref?: string;
  title?: string;
  description?: string;
  type?: string | string[];
  const?: unknown;
  enum?: unknown[];
  oneOf?: SchemaNode[];
  anyOf?: SchemaNode[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  minItems?: number;
  uniqueItems?: boolean;
  pattern?: string;
  required?: string[];
  properties?: Record<string, SchemaNode>;
  additionalProperties?: boolean | SchemaNode;
  propertyNames?: SchemaNode;
  items?: SchemaNode;
  definitions?: Record<string, SchemaNode>;
}

/** Where the schema file lives, relative to this module both in `src/manifest` and `dist/manifest`. */
export const SCHEMA_URL = new URL('../../schemas/fleet.schema.json', import.meta.url);

let cached: SchemaNode | undefined;

/** The parsed `schemas/fleet.schema.json` (read once; it ships with the package). */
export function manifestSchema(): SchemaNode {
  cached ??= JSON.parse(readFileSync(SCHEMA_URL, 'utf8')) as SchemaNode;
  return cached;
}

/** The definition a `$ref` points at (`#/definitions/<name>`). */
export function resolveRef(ref: string, root: SchemaNode): SchemaNode {
  const name = refName(ref);
  const node = root.definitions?.[name];
  if (!node) throw new Error(`schema: unknown $ref ${ref}`);
  return node;
}

/** `#/definitions/host` → `host`. */
export function refName(ref: string): string {
  const prefix = '#/definitions/';
  if (!ref.startsWith(prefix)) throw new Error(`schema: unsupported $ref ${ref}`);
  return ref.slice(prefix.length);
}

/** Follows `$ref`s until a node with content. */
export function deref(node: SchemaNode, root: SchemaNode): SchemaNode {
  let current = node;
  for (let i = 0; current.$ref !== undefined && i < 16; i++) current = resolveRef(current.$ref, root);
  return current;
}

const KEY_LIKE = 'an SSH public key like "ssh-ed25519 AAAA…"';

/** Phrases for named definitions, singular and plural: what a value of that kind must be. */
const SELECTOR_LIKE = 'a host name, a glob (web-*) or an @tag';

const PHRASES: Record<string, { one: string; many: string }> = {
  hostSelector: { one: SELECTOR_LIKE, many: 'host names, globs (web-*) or @tags' },
  safeWord: {
    one: 'a safe word (letters, digits, ".", "_" and "-", starting with a letter or digit)',
    many: 'safe words (letters, digits, ".", "_" and "-", starting with a letter or digit)',
  },
  nonEmptyString: { one: 'a non-empty string', many: 'non-empty strings' },
  path: { one: 'a path without NUL or line breaks', many: 'paths without NUL or line breaks' },
  absolutePath: {
    one: 'an absolute path (starting with "/", without NUL or line breaks)',
    many: 'absolute paths (starting with "/", without NUL or line breaks)',
  },
  flakeRef: {
    one: 'a flake path or reference without "#attribute", NUL or line breaks',
    many: 'flake paths or references',
  },
  endpoint: { one: '"local" or [user@]host[:port]', many: 'endpoints ("local" or [user@]host[:port])' },
  publicKey: { one: KEY_LIKE, many: 'SSH public keys like "ssh-ed25519 AAAA…"' },
  sshOption: { one: 'an ssh option written Key=Value', many: 'ssh options written Key=Value' },
  seconds: { one: 'a whole number of seconds, at least 1', many: 'whole numbers of seconds' },
  argv: { one: 'a non-empty list of non-empty strings', many: 'commands' },
  bootstrap: { one: 'true, false or a mapping', many: 'bootstrap settings' },
  jump: { one: '[user@]host[:port] or a mapping with target (and hostKey, identityFile)', many: 'jump hosts' },
  jumpEndpoint: { one: '[user@]host[:port]', many: 'jump hosts ([user@]host[:port])' },
  unixName: {
    one: 'a user or group name (a letter or "_", then letters, digits, "_", "." or "-")',
    many: 'user or group names',
  },
};

/** Phrases for inline nodes that need their own words, by JSON pointer into the schema. */
const POINTER_PHRASES: Record<string, string> = {
  '/definitions/host/properties/hostKey': `${KEY_LIKE}, or a non-empty list of them`,
  '/definitions/healthCheck/properties/command':
    'a non-empty string (run with sh -c) or a non-empty list of non-empty strings',
  '/definitions/secret/properties/env': 'an environment variable name (letters, digits and "_", not starting with a digit)',
  '/definitions/secret/properties/mode': 'an octal mode such as "0400" or "640" (a string: quote it in YAML)',
  '/definitions/rollout/properties/waves': 'a number of hosts of at least 1, or a percentage from "1%" to "100%"',
  '/definitions/rollout/properties/canary': `${SELECTOR_LIKE}, or a list of them`,
  '/definitions/host/properties/privilegeEscalation': 'sudo, doas, run0, or a non-empty list of words put before each privileged command',
};

/**
 * Phrases of the named and pointed-at nodes of a schema, keyed by the node's JSON text: the
 * build-time validator hands back copies of the schema's nodes, not the nodes themselves.
 */
const phrasesByText = new WeakMap<SchemaNode, Map<string, { one: string; many: string }>>();
/** Each node's JSON text, computed once per node object. */
const texts = new WeakMap<SchemaNode, string>();

function textOf(node: SchemaNode): string {
  let text = texts.get(node);
  if (text === undefined) {
    text = JSON.stringify(node);
    texts.set(node, text);
  }
  return text;
}

function knownPhrases(root: SchemaNode): Map<string, { one: string; many: string }> {
  let known = phrasesByText.get(root);
  if (known) return known;
  known = new Map();
  for (const [name, phrase] of Object.entries(PHRASES)) {
    const node = root.definitions?.[name];
    if (node) known.set(textOf(node), phrase);
  }
  for (const [pointer, one] of Object.entries(POINTER_PHRASES)) {
    const node = pointerGet(root, pointer);
    if (node) known.set(textOf(node), { one, many: one });
  }
  phrasesByText.set(root, known);
  return known;
}

function pointerGet(root: SchemaNode, pointer: string): SchemaNode | undefined {
  let node: unknown = root;
  for (const part of pointer.split('/').slice(1)) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return typeof node === 'object' && node !== null ? (node as SchemaNode) : undefined;
}

function phraseOf(node: SchemaNode, root: SchemaNode): { one: string; many: string } {
  if (node.$ref !== undefined) {
    const named = PHRASES[refName(node.$ref)];
    if (named) return named;
    return phraseOf(resolveRef(node.$ref, root), root);
  }
  const known = knownPhrases(root).get(textOf(node));
  if (known) return known;
  if (node.const !== undefined) {
    const one = JSON.stringify(node.const);
    return { one, many: one };
  }
  if (node.enum) {
    const list = node.enum.map(String).join(', ');
    return { one: `one of ${list}`, many: `values among ${list}` };
  }
  const types = Array.isArray(node.type) ? node.type : node.type ? [node.type] : [];
  if (types.length === 1) return phraseOfType(types[0] ?? '', node, root);
  if (types.length > 1) {
    const one = types.map((t) => phraseOfType(t, node, root).one).join(' or ');
    return { one, many: one };
  }
  return { one: 'a value', many: 'values' };
}

function phraseOfType(type: string, node: SchemaNode, root: SchemaNode): { one: string; many: string } {
  switch (type) {
    case 'integer':
    case 'number': {
      const noun = type === 'integer' ? 'integer' : 'number';
      const { minimum: min, maximum: max } = node;
      if (min !== undefined && max !== undefined)
        return { one: `an ${noun} from ${min} to ${max}`, many: `${noun}s from ${min} to ${max}` };
      if (min !== undefined) return { one: `an ${noun} of at least ${min}`, many: `${noun}s of at least ${min}` };
      return { one: `an ${noun}`, many: `${noun}s` };
    }
    case 'string':
      return (node.minLength ?? 0) > 0
        ? { one: 'a non-empty string', many: 'non-empty strings' }
        : { one: 'a string', many: 'strings' };
    case 'boolean':
      return { one: 'true or false', many: 'booleans' };
    case 'array': {
      const items = node.items ? phraseOf(node.items, root).many : 'values';
      const lead = (node.minItems ?? 0) > 0 ? 'a non-empty list of' : 'a list of';
      return { one: `${lead} ${items}`, many: `lists of ${items}` };
    }
    case 'object':
      return { one: 'a mapping', many: 'mappings' };
    case 'null':
      return { one: 'empty', many: 'empty values' };
    default:
      return { one: `a ${type}`, many: `${type}s` };
  }
}

/** What a value must be, for error messages: `an integer from 1 to 65535`, `one of switch, boot`. */
export function describeSchema(node: SchemaNode, root: SchemaNode = manifestSchema()): string {
  return phraseOf(node, root).one;
}
