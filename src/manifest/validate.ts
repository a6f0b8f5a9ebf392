// Schema validation with the validator ajv compiled ahead of time (schema-validator.ts, generated
// from the schema by `npm run gen:validator` and committed; a test fails when it drifts), and the
// translation of its errors into one plain sentence per problem.
import type { ErrorObject } from 'ajv';
import { describeSchema, type SchemaNode } from './schema.js';
import { validate as generatedValidator } from './schema-validator.js';
import { suggest } from './suggest.js';
import { formatPath, type Anchor, type PathSegment } from './yaml-source.js';

/** A problem found in the data, before it is given a position. */
export interface PathProblem {
  path: PathSegment[];
  /** Point at the key that names `path` or at the value there. */
  anchor: Anchor;
  message: string;
  /** The part of the data this problem makes untrustworthy for later checks (default: `path`). */
  scope?: PathSegment[];
}

/** The compiled schema (scripts/gen-validator.ts): true when valid, else its `errors`. */
const validator = generatedValidator as {
  (data: unknown): boolean;
  errors?: ErrorObject[] | null;
};

/** A value as it appears in a message: strings quoted, structures named. */
export function showValue(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (typeof value === 'string') {
    const quoted = JSON.stringify(value);
    return quoted.length > 72 ? `${quoted.slice(0, 68)}…"` : quoted;
  }
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : 'a list';
  return 'a mapping';
}

/** `/hosts/web-1/tags/0` → ['hosts', 'web-1', 'tags', 0], typing indices by walking the data. */
function toPath(pointer: string, data: unknown): PathSegment[] {
  if (pointer === '') return [];
  const path: PathSegment[] = [];
  let node = data;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) {
      const index = Number(key);
      path.push(index);
      node = node[index];
    } else {
      path.push(key);
      node = (node as Record<string, unknown> | undefined)?.[key];
    }
  }
  return path;
}

function valueAt(data: unknown, path: readonly PathSegment[]): unknown {
  let node = data;
  for (const segment of path) node = (node as Record<string | number, unknown> | undefined)?.[segment];
  return node;
}

/** Whether `pointer` or one of its ancestors holds a value of the wrong type (one lookup per level). */
function underWrongType(pointer: string, wrongType: ReadonlySet<string>): boolean {
  if (wrongType.size === 0) return false;
  for (let end = pointer.length; end >= 0; end = pointer.lastIndexOf('/', end - 1)) {
    if (wrongType.has(pointer.slice(0, end))) return true;
    if (end === 0) break;
  }
  return false;
}

/**
 * Validates manifest data against the schema. Each problem is said once: a value of the wrong
 * type hides the errors beneath it, and several complaints about one value become one sentence.
 */
export function schemaProblems(data: unknown): PathProblem[] {
  if (validator(data)) return [];
  const errors: ErrorObject[] = validator.errors ?? [];
  const wrongType = new Set(errors.filter((e) => e.keyword === 'type').map((e) => e.instancePath));
  const problems: PathProblem[] = [];
  const said = new Set<string>();

  for (const error of errors) {
    if (error.keyword === 'propertyNames') continue; // its inner error names the key
    const pointer = error.instancePath;
    if (error.keyword !== 'type' && underWrongType(pointer, wrongType)) continue;
    const path = toPath(pointer, data);
    const where = formatPath(path);
    const prefix = where === '' ? '' : `${where}: `;
    const schema = error.parentSchema as SchemaNode | undefined;
    const propertyName = (error as { propertyName?: string }).propertyName;
    let problem: PathProblem;
    let once: string;

    if (propertyName !== undefined) {
      const noun = where === 'hosts' ? 'host name' : 'key';
      once = `name ${pointer} ${propertyName}`;
      problem = {
        path: [...path, propertyName],
        anchor: 'key',
        message: `${prefix}${noun} ${JSON.stringify(propertyName)} must be ${schema ? describeSchema(schema) : 'valid'}`,
      };
    } else if (error.keyword === 'additionalProperties') {
      const key = String((error.params as { additionalProperty: string }).additionalProperty);
      const known = Object.keys(schema?.properties ?? {});
      const guess = suggest(key, known);
      once = `extra ${pointer} ${key}`;
      problem = {
        path: [...path, key],
        anchor: 'key',
        message: `${prefix}unknown key ${JSON.stringify(key)}${guess ? ` (did you mean ${JSON.stringify(guess)}?)` : ''}`,
      };
    } else if (error.keyword === 'required') {
      const key = String((error.params as { missingProperty: string }).missingProperty);
      once = `required ${pointer} ${key}`;
      problem = {
        path,
        anchor: 'value',
        message: `${prefix}missing required key ${JSON.stringify(key)}`,
        scope: [...path, key],
      };
    } else if (error.keyword === 'uniqueItems') {
      const { i } = error.params as { i: number; j: number };
      const itemPath = [...path, i];
      once = `unique ${pointer} ${i}`;
      problem = {
        path: itemPath,
        anchor: 'value',
        message: `${where} lists ${showValue(valueAt(data, itemPath))} more than once`,
      };
    } else {
      once = `value ${pointer}`;
      const expected = schema ? describeSchema(schema) : 'valid';
      const subject = where === '' ? 'the manifest' : where;
      // `web-1:` with nothing after it is a common slip for `web-1: {}`.
      const emptyMapping = error.keyword === 'type' && error.data === null && expected.endsWith('a mapping');
      const got = emptyMapping ? 'nothing; write {} for a mapping with no settings' : showValue(error.data);
      problem = { path, anchor: 'value', message: `${subject} must be ${expected} (got ${got})` };
    }
    if (said.has(once)) continue;
    said.add(once);
    problems.push(problem);
  }
  return problems;
}
