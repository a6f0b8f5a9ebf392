// Generates src/manifest/schema-types.ts (the raw manifest's TypeScript types) from schemas/fleet.schema.json,
// and src/report/report-types.ts (the JSON report's types) from schemas/report.schema.json.
// Written by hand for the JSON Schema subset these two schemas use: json-schema-to-typescript brings a
// second YAML parser (js-yaml, also through @apidevtools/json-schema-ref-parser), and quicktype-core loses
// what the code relies on (const literals, the ClosureDiff discriminated union, the schema's type names;
// date-time strings become Date). A keyword outside the subset stops generation, naming its JSON pointer.
import type { SchemaNode } from '../src/manifest/schema.js';
import { readFile, writeFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The committed output. */
export const TYPES_URL = new URL('../src/manifest/schema-types.ts', import.meta.url);
const SCHEMA_URL = new URL('../schemas/fleet.schema.json', import.meta.url);

const BANNER = [
  '// The raw fleet.yaml as written, before defaults: GENERATED from schemas/fleet.schema.json.',
  '// Do not edit; run `npm run gen:types` (a unit test fails when this file drifts from the schema).',
].join('\n');

/** The committed report types. */
export const REPORT_TYPES_URL = new URL('../src/report/report-types.ts', import.meta.url);
const REPORT_SCHEMA_URL = new URL('../schemas/report.schema.json', import.meta.url);

const REPORT_BANNER = [
  '// The JSON report of fleet apply: GENERATED from schemas/report.schema.json.',
  '// Do not edit; run `npm run gen:types` (a unit test fails when this file drifts from the schema).',
].join('\n');

/** The TypeScript source for the schema, exactly as committed. */
export async function generateSchemaTypes(): Promise<string> {
  return compileSchema(SCHEMA_URL, 'FleetManifest', BANNER);
}

/** The TypeScript source for the report's schema, exactly as committed. */
export async function generateReportTypes(): Promise<string> {
  return compileSchema(REPORT_SCHEMA_URL, 'FleetReport', REPORT_BANNER);
}

async function compileSchema(url: URL, rootName: string, banner: string): Promise<string> {
  const schema = JSON.parse(await readFile(url, 'utf8')) as Schema;
  const repoPath = relative(fileURLToPath(new URL('..', import.meta.url)), fileURLToPath(url));
  return renderTypes(schema, rootName, banner, repoPath);
}

/** A schema the generator does not understand; says where in which file. */
export class SchemaTypesError extends Error {
  constructor(file: string, pointer: string, problem: string) {
    super(`${file}: ${pointer}: ${problem}`);
    this.name = 'SchemaTypesError';
  }
}

/** A schema node (the keywords our schemas use): the manifest module's own type of it. */
export type Schema = SchemaNode;

/** Keywords that shape the TypeScript type. */
const SHAPING = new Set([
  ...['$ref', 'definitions', 'title', 'description', 'type', 'const', 'enum', 'oneOf', 'anyOf'],
  ...['properties', 'required', 'additionalProperties', 'items', 'minItems'],
]);
/** Keywords that only constrain or annotate values, and so leave the type as it is. */
const VALUE_ONLY = new Set([
  ...['$schema', '$id', 'default', 'examples', 'format', 'pattern', 'minLength', 'maxLength'],
  ...['minimum', 'maximum', 'maxItems', 'uniqueItems', 'propertyNames'],
]);

/** A TypeScript type; a named one is declared once and referred to by name. */
interface TypeNode {
  name?: string;
  /** JSDoc text: the schema's description (and `@minItems` of an array). */
  comment?: string;
  shape: Shape;
}

type Shape =
  | { kind: 'keyword'; word: 'string' | 'number' | 'boolean' | 'null' | 'unknown' }
  | { kind: 'literal'; value: string | number | boolean }
  | { kind: 'array'; element: TypeNode }
  | { kind: 'union'; members: TypeNode[] }
  | { kind: 'object'; properties: Property[]; values?: TypeNode };

interface Property {
  key: string;
  required: boolean;
  node: TypeNode;
}

/** Schema → TypeNode tree; each definition becomes one node, shared by every `$ref` to it. */
class SchemaReader {
  private readonly nodes = new Map<Schema, TypeNode>();
  private readonly names = new Map<string, TypeNode>();

  constructor(
    private readonly root: Schema,
    private readonly file: string,
  ) {}

  read(schema: Schema, pointer: string, defaultName?: string): TypeNode {
    this.checkKeywords(schema, pointer);
    if (schema.$ref !== undefined) return this.definition(schema.$ref, pointer);
    const known = this.nodes.get(schema);
    if (known) return known;
    const node: TypeNode = { shape: { kind: 'keyword', word: 'unknown' } };
    this.nodes.set(schema, node); // before the children, so that a recursive schema ends
    const name = schema.title ?? defaultName;
    if (name !== undefined) node.name = this.claim(name, node, pointer);
    const comment = [schema.description, isArraySchema(schema) && schema.minItems !== undefined ? `@minItems ${schema.minItems}` : undefined]
      .filter((part): part is string => part !== undefined)
      .join('\n\n');
    if (comment !== '') node.comment = comment;
    node.shape = this.shape(schema, pointer);
    return node;
  }

  private shape(schema: Schema, pointer: string): Shape {
    if (schema.const !== undefined) return this.literal(schema.const, `${pointer}/const`);
    if (schema.enum !== undefined) {
      const members = schema.enum.map((value, i) => ({ shape: this.literal(value, `${pointer}/enum/${i}`) }));
      return members.length === 1 ? members[0]!.shape : { kind: 'union', members };
    }
    const alternatives = schema.oneOf ?? schema.anyOf;
    if (alternatives !== undefined) {
      const keyword = schema.oneOf ? 'oneOf' : 'anyOf';
      return { kind: 'union', members: alternatives.map((member, i) => this.read(member, `${pointer}/${keyword}/${i}`)) };
    }
    if (Array.isArray(schema.type)) {
      return { kind: 'union', members: schema.type.map((type) => ({ shape: this.shapeOfType(type, schema, pointer) })) };
    }
    if (schema.type !== undefined) return this.shapeOfType(schema.type, schema, pointer);
    if (schema.properties !== undefined) return this.shapeOfType('object', schema, pointer);
    return { kind: 'keyword', word: 'unknown' };
  }

  private shapeOfType(type: string, schema: Schema, pointer: string): Shape {
    switch (type) {
      case 'string':
      case 'boolean':
      case 'null':
        return { kind: 'keyword', word: type };
      case 'integer':
      case 'number':
        return { kind: 'keyword', word: 'number' };
      case 'array':
        return {
          kind: 'array',
          element: schema.items ? this.read(schema.items, `${pointer}/items`) : { shape: { kind: 'keyword', word: 'unknown' } },
        };
      case 'object': {
        const required = new Set(schema.required ?? []);
        const properties = Object.entries(schema.properties ?? {}).map(([key, property]) => ({
          key,
          required: required.has(key),
          node: this.read(property, `${pointer}/properties/${escapePointer(key)}`),
        }));
        const extra = schema.additionalProperties;
        const values = typeof extra === 'object' ? this.read(extra, `${pointer}/additionalProperties`) : undefined;
        return values ? { kind: 'object', properties, values } : { kind: 'object', properties };
      }
      default:
        throw new SchemaTypesError(this.file, `${pointer}/type`, `type "${type}" is not a JSON Schema type`);
    }
  }

  private literal(value: unknown, pointer: string): Shape {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return { kind: 'literal', value };
    throw new SchemaTypesError(this.file, pointer, `${JSON.stringify(value)} is not a string, number or boolean (scripts/gen-types.ts writes no other literal type)`);
  }

  /** `#/definitions/<key>`: named by its title, else by its key (`flakeRef` → `FlakeRef`). */
  private definition(ref: string, pointer: string): TypeNode {
    const prefix = '#/definitions/';
    const key = ref.startsWith(prefix) ? ref.slice(prefix.length) : undefined;
    const schema = key === undefined ? undefined : this.root.definitions?.[key];
    if (key === undefined || schema === undefined) {
      throw new SchemaTypesError(this.file, `${pointer}/$ref`, `${ref} is not a definition of this schema (only #/definitions/<name> is followed)`);
    }
    return this.read(schema, `#/definitions/${escapePointer(key)}`, key);
  }

  /** The TypeScript name for a title or definition key (`flakeRef` → `FlakeRef`), once per schema. */
  private claim(text: string, node: TypeNode, pointer: string): string {
    const name = text
      .split(/[^A-Za-z0-9_$]+/)
      .filter(Boolean)
      .map((word) => word[0]!.toUpperCase() + word.slice(1))
      .join('')
      .replace(/^[0-9]+/, '');
    if (name === '') throw new SchemaTypesError(this.file, pointer, `no TypeScript name can be made from ${JSON.stringify(text)}`);
    const holder = this.names.get(name);
    if (holder !== undefined && holder !== node) throw new SchemaTypesError(this.file, pointer, `a second type is named ${name}; give one a distinct title`);
    this.names.set(name, node);
    return name;
  }

  private checkKeywords(schema: Schema, pointer: string): void {
    const keywords = Object.keys(schema);
    for (const keyword of keywords) {
      if (!SHAPING.has(keyword) && !VALUE_ONLY.has(keyword)) {
        throw new SchemaTypesError(this.file, pointer, `keyword "${keyword}" is not handled by scripts/gen-types.ts; teach it there`);
      }
    }
    // The type comes from one place: a $ref, or oneOf/anyOf, or the node's own keywords.
    const beside = (keyword: string, allowed: (other: string) => boolean): void => {
      const clash = keywords.find((other) => other !== keyword && !allowed(other));
      if (clash !== undefined) throw new SchemaTypesError(this.file, pointer, `"${clash}" beside "${keyword}" is not handled by scripts/gen-types.ts`);
    };
    // Beside a $ref, a description says what the field is for; the type and its JSDoc are the definition's.
    if (schema.$ref !== undefined) beside('$ref', (other) => other === 'description' || VALUE_ONLY.has(other));
    for (const keyword of ['oneOf', 'anyOf'] as const) {
      if (schema[keyword] !== undefined) beside(keyword, (other) => !SHAPING.has(other) || other === 'title' || other === 'description' || other === 'definitions');
    }
  }
}

function isArraySchema(schema: Schema): boolean {
  return schema.type === 'array' || (Array.isArray(schema.type) && schema.type.includes('array'));
}

function escapePointer(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1');
}

/** The whole file: banner, named type aliases, then interfaces, each in the order the root reaches them. */
export function renderTypes(schema: Schema, rootName: string, banner: string, file = 'schema'): string {
  const root = new SchemaReader(schema, file).read(schema, '#', rootName);
  const aliases: TypeNode[] = [];
  const interfaces: TypeNode[] = [];
  collectAliases(root, new Set(), aliases);
  collectInterfaces(root, new Set(), interfaces);
  const sections = [banner, aliases.map(printAlias).join('\n'), interfaces.map(printInterface).join('\n')];
  return `${sections.filter((section) => section !== '').join('\n\n')}\n`;
}

// The two walks keep the declaration order the files have always had: an array's element type
// before the array, a union before its members, an interface before what its properties use.
function collectAliases(node: TypeNode, seen: Set<TypeNode>, out: TypeNode[]): void {
  if (seen.has(node)) return;
  seen.add(node);
  const { shape } = node;
  switch (shape.kind) {
    case 'array':
      collectAliases(shape.element, seen, out);
      if (node.name !== undefined) out.push(node);
      return;
    case 'object':
      for (const child of childrenOf(shape)) collectAliases(child, seen, out);
      return;
    case 'union':
      if (node.name !== undefined) out.push(node);
      for (const member of shape.members) collectAliases(member, seen, out);
      return;
    default:
      if (node.name !== undefined) out.push(node);
  }
}

function collectInterfaces(node: TypeNode, seen: Set<TypeNode>, out: TypeNode[]): void {
  if (seen.has(node)) return;
  seen.add(node);
  const { shape } = node;
  switch (shape.kind) {
    case 'array':
      collectInterfaces(shape.element, seen, out);
      return;
    case 'object':
      if (node.name !== undefined) out.push(node);
      for (const child of childrenOf(shape)) collectInterfaces(child, seen, out);
      return;
    case 'union':
      for (const member of shape.members) collectInterfaces(member, seen, out);
      return;
  }
}

function childrenOf(shape: Extract<Shape, { kind: 'object' }>): TypeNode[] {
  const children = shape.properties.map((property) => property.node);
  return shape.values ? [...children, shape.values] : children;
}

// Printing follows the layout the files had when prettier formatted them (width 100, two-space
// indent, single quotes, objects always broken over lines), so regenerating changes nothing.
const WIDTH = 100;

function printAlias(node: TypeNode): string {
  return `${printComment(node.comment, '')}${printAssignment(`export type ${node.name} =`, node.shape, '')};`;
}

function printInterface(node: TypeNode): string {
  return `${printComment(node.comment, '')}export interface ${node.name} ${printShape(node.shape, '')}`;
}

/**
 * `head type` on one line when it fits; a union that does not fit goes on the next line, indented,
 * and one member per line (`| member`) when it does not fit there either or has an object member.
 */
function printAssignment(head: string, shape: Shape, indent: string): string {
  const inner = `${indent}  `;
  if (shape.kind !== 'union') return `${head} ${printShape(shape, indent)}`;
  const members = shape.members.map((member) => printNode(member, `${inner}  `));
  if (members.every((member) => !member.includes('\n'))) {
    const flat = members.join(' | ');
    if (`${head} ${flat};`.length <= WIDTH) return `${head} ${flat}`;
    if (`${inner}${flat};`.length <= WIDTH) return `${head}\n${inner}${flat}`;
  }
  return `${head}\n${members.map((member) => `${inner}| ${member}`).join('\n')}`;
}

/** A type in place: a named node by its name, any other by its shape. */
function printNode(node: TypeNode, indent: string): string {
  return node.name ?? printShape(node.shape, indent);
}

/** `indent` is where the line holding the type starts: an object's closing brace goes there. */
function printShape(shape: Shape, indent: string): string {
  switch (shape.kind) {
    case 'keyword':
      return shape.word;
    case 'literal':
      return typeof shape.value === 'string' ? quote(shape.value) : String(shape.value);
    case 'array': {
      const element = printNode(shape.element, indent);
      const bare = shape.element.name !== undefined || shape.element.shape.kind !== 'union';
      return bare ? `${element}[]` : `(${element})[]`;
    }
    case 'union':
      return shape.members
        .map((member) => {
          const text = printNode(member, indent);
          return member.name === undefined && member.shape.kind === 'union' ? `(${text})` : text;
        })
        .join(' | ');
    case 'object': {
      const inner = `${indent}  `;
      const lines = shape.properties.map((property) => {
        const comment = property.node.name === undefined ? printComment(property.node.comment, inner) : '';
        const head = `${inner}${printKey(property.key)}${property.required ? '' : '?'}:`;
        const { name } = property.node;
        return `${comment}${name === undefined ? printAssignment(head, property.node.shape, inner) : `${head} ${name}`};`;
      });
      if (shape.values) lines.push(`${inner}[k: string]: ${printNode(shape.values, inner)} | undefined;`);
      return lines.length === 0 ? '{}' : `{\n${lines.join('\n')}\n${indent}}`;
    }
  }
}

function printComment(text: string | undefined, indent: string): string {
  if (text === undefined) return '';
  const lines = text.replaceAll('*/', '*\\/').split('\n').map((line) => (line === '' ? `${indent} *` : `${indent} * ${line}`));
  return `${indent}/**\n${lines.join('\n')}\n${indent} */\n`;
}

function printKey(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? key : quote(key);
}

/** A string literal in single quotes, as prettier writes it (double quotes when that escapes less). */
function quote(text: string): string {
  const json = JSON.stringify(text);
  if (text.includes("'") && !text.includes('"')) return json;
  return `'${json.slice(1, -1).replaceAll('\\"', '"').replaceAll("'", "\\'")}'`;
}

async function main(): Promise<void> {
  await writeFile(TYPES_URL, await generateSchemaTypes());
  console.log(`wrote ${fileURLToPath(TYPES_URL)}`);
  await writeFile(REPORT_TYPES_URL, await generateReportTypes());
  console.log(`wrote ${fileURLToPath(REPORT_TYPES_URL)}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    await main();
  } catch (error) {
    if (!(error instanceof SchemaTypesError)) throw error;
    console.error(`gen-types: ${error.message}`);
    process.exitCode = 1;
  }
}
