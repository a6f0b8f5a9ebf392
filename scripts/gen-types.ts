// Generates src/manifest/schema-types.ts (the raw manifest's TypeScript types) from schemas/fleet.schema.json,
// and src/report/report-types.ts (the JSON report's types) from schemas/report.schema.json.
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { compile, type JSONSchema } from 'json-schema-to-typescript';

/** The committed output. */
export const TYPES_URL = new URL('../src/manifest/schema-types.ts', import.meta.url);
const SCHEMA_URL = new URL('../schemas/fleet.schema.json', import.meta.url);

const BANNER = [
  '// The raw fleet.yaml as written, before defaults: GENERATED from schemas/fleet.schema.json.',
  '// Do not edit; run `npm run gen:types` (a unit test fails when this file drifts from the schema).',
].join('\n');

/**
 * A copy of the schema where a `$ref` stands alone. Property-level descriptions beside a `$ref`
 * would otherwise make json-schema-to-typescript emit a numbered copy of the type per use (Argv1…).
 */
function bareRefs(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(bareRefs);
  if (typeof node !== 'object' || node === null) return node;
  const record = node as Record<string, unknown>;
  if (typeof record['$ref'] === 'string') return { $ref: record['$ref'] };
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, bareRefs(v)]));
}

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

async function compileSchema(url: URL, name: string, banner: string): Promise<string> {
  const schema = JSON.parse(await readFile(url, 'utf8')) as JSONSchema;
  return compile(bareRefs(schema) as JSONSchema, name, {
    bannerComment: banner,
    additionalProperties: false,
    ignoreMinAndMaxItems: true,
    unreachableDefinitions: false,
    strictIndexSignatures: true,
    format: true,
    style: { singleQuote: true, printWidth: 100 },
  });
}

async function main(): Promise<void> {
  await writeFile(TYPES_URL, await generateSchemaTypes());
  console.log(`wrote ${fileURLToPath(TYPES_URL)}`);
  await writeFile(REPORT_TYPES_URL, await generateReportTypes());
  console.log(`wrote ${fileURLToPath(REPORT_TYPES_URL)}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
