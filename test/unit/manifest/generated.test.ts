// The schema is the source of truth: generated types and docs must match it, and so must the built-in defaults.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { DOC_URL, MARKER, renderDocument } from '../../../scripts/gen-manifest-docs.js';
import { generateSchemaTypes, TYPES_URL } from '../../../scripts/gen-types.js';
import { generateValidator, VALIDATOR_URL } from '../../../scripts/gen-validator.js';
import { BUILTIN } from '../../../src/manifest/resolve.js';
import { manifestSchema, type SchemaNode } from '../../../src/manifest/schema.js';

const schema = manifestSchema();
const defs = schema.definitions as Record<string, SchemaNode>;
const prop = (def: string, key: string): SchemaNode => defs[def]?.properties?.[key] as SchemaNode;

describe('generated files', () => {
  it('src/manifest/schema-types.ts matches the schema (run `npm run gen:types`)', async () => {
    const committed = await readFile(TYPES_URL, 'utf8');
    expect(committed).toBe(await generateSchemaTypes());
  }, 30_000);

  it('src/manifest/schema-validator.ts is the schema compiled by ajv (run `npm run gen:validator`)', async () => {
    const committed = await readFile(VALIDATOR_URL, 'utf8');
    expect(committed).toBe(await generateValidator());
  });

  it('docs/manifest.md matches the schema (run `npx tsx scripts/gen-manifest-docs.ts`)', async () => {
    const committed = await readFile(DOC_URL, 'utf8');
    expect(committed).toContain(MARKER);
    expect(committed).toBe(renderDocument(committed));
  });

  it('docs/manifest.md documents every field of every mapping', async () => {
    const doc = await readFile(DOC_URL, 'utf8');
    const visit = (node: SchemaNode): void => {
      for (const [key, child] of Object.entries(node.properties ?? {})) {
        expect(doc).toContain(`| \`${key}\` |`);
        expect(child.description ?? (child.$ref ? 'ref' : undefined), key).toBeDefined();
      }
    };
    visit(schema);
    for (const def of Object.values(defs)) {
      visit(def);
      expect(def.description).toBeDefined();
    }
  });
});

describe('schema', () => {
  it('forbids unknown keys in every mapping', () => {
    const mappings = [schema, ...Object.values(defs)].filter((node) => node.properties !== undefined);
    expect(mappings.length).toBeGreaterThan(5);
    for (const node of mappings) expect(node.additionalProperties).toBe(false);
  });

  it('checks a single hostKey string with the same pattern as a listed one', () => {
    expect(prop('host', 'hostKey').pattern).toBe(defs['publicKey']?.pattern);
  });

  it('states the defaults that resolution applies', () => {
    const root = schema.properties as Record<string, SchemaNode>;
    expect(root['flake']?.default).toBe(BUILTIN.flake);
    expect(root['parallel']?.default).toBe(BUILTIN.parallel);
    for (const [tool, argv] of Object.entries(BUILTIN.commands)) expect(prop('commands', tool).default).toEqual(argv);
    expect(prop('host', 'user').default).toBe(BUILTIN.user);
    expect(prop('host', 'port').default).toBe(BUILTIN.port);
    expect(prop('host', 'mode').default).toBe(BUILTIN.mode);
    expect(prop('host', 'buildHost').default).toBe(BUILTIN.buildHost);
    expect(prop('host', 'trustOnFirstUse').default).toBe(false);
    expect(prop('host', 'tolerateUnitFailures').default).toBe(false);
    for (const [key, value] of Object.entries(BUILTIN.keys)) expect(prop('keys', key).default).toEqual(value);
    for (const [key, value] of Object.entries(BUILTIN.bootstrap)) expect(prop('bootstrap', key).default).toEqual(value);
    for (const key of ['owner', 'group', 'mode', 'upload'] as const) expect(prop('secret', key).default).toEqual(BUILTIN.secret[key]);
    for (const [key, value] of Object.entries(BUILTIN.rollback)) expect(prop('rollback', key).default).toEqual(value);
    expect(prop('healthCheck', 'timeout').default).toBe(BUILTIN.healthCheckTimeout);
  });
});
