// Generates src/manifest/schema-validator.ts: the manifest's JSON Schema compiled by ajv ahead of time (standalone code).
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Ajv } from 'ajv';
import standalone from 'ajv/dist/standalone/index.js';

/** The committed output. */
export const VALIDATOR_URL = new URL('../src/manifest/schema-validator.ts', import.meta.url);
const SCHEMA_URL = new URL('../schemas/fleet.schema.json', import.meta.url);

const BANNER = [
  '// The manifest schema compiled by ajv ahead of time: GENERATED from schemas/fleet.schema.json by scripts/gen-validator.ts.',
  '// Do not edit; run `npm run gen:validator` (a unit test fails when this file drifts from the schema).',
  '// @ts-nocheck -- ajv standalone output is plain JavaScript; src/manifest/validate.ts gives it its type.',
  '/* eslint-disable */',
  // The standalone code loads ajv's small runtime helpers with require().
  "import { createRequire } from 'node:module';",
  'const require = createRequire(import.meta.url);',
  '/** Appends a sub-schema\'s errors in place (see CONCAT in scripts/gen-validator.ts). */',
  'function appendErrors(into, more) {',
  '  if (into === null) return more.slice();',
  '  for (const error of more) into.push(error);',
  '  return into;',
  '}',
].join('\n');

/**
 * ajv collects a sub-schema's errors with `vErrors.concat(sub.errors)`, which copies every error
 * found so far: quadratic when each of 20,000 hosts has a problem. They are appended in place instead.
 */
const CONCAT = /vErrors = vErrors === null \? (validate\d+)\.errors : vErrors\.concat\(\1\.errors\);/g;

/**
 * The options fleet's errors are written for: every error at once (`allErrors`), type unions
 * instead of oneOf (`bootstrap: true | {…}`, `hostKey: "…" | […]`), and `verbose` so that each
 * error carries the schema node it broke (`parentSchema`) and the value found (`data`).
 */
const OPTIONS = {
  allErrors: true,
  strict: true,
  allowUnionTypes: true,
  verbose: true,
  code: { source: true, esm: true, lines: true },
} as const;

/** The TypeScript source of the compiled validator, exactly as committed. */
export async function generateValidator(): Promise<string> {
  const schema = JSON.parse(await readFile(SCHEMA_URL, 'utf8')) as object;
  const ajv = new Ajv(OPTIONS);
  // A CommonJS module whose export is the function, with itself as `.default` (how TypeScript sees it).
  const code = standalone.default(ajv, ajv.compile(schema));
  // An ES module is strict already; the directive would sit after the imports, where it means nothing.
  const body = code.replace(/^"use strict";\n/, '').replace(CONCAT, 'vErrors = appendErrors(vErrors, $1.errors);');
  if (body.includes('.concat(')) throw new Error('gen-validator: ajv collects errors in a way this script does not know; update CONCAT');
  return `${BANNER}\n${body.trimEnd()}\n`;
}

async function main(): Promise<void> {
  await writeFile(VALIDATOR_URL, await generateValidator());
  console.log(`wrote ${fileURLToPath(VALIDATOR_URL)}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
