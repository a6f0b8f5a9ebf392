// Shared helpers for the manifest tests: build YAML from lines, collect problems as `line:col: message`.
import { ManifestError } from '../../../src/errors.js';
import { parseManifest, type Inventory, type ParseOptions } from '../../../src/manifest/index.js';

/** Joins lines into manifest text, so that a test's line numbers can be read off its source. */
export const yaml = (...lines: string[]): string => `${lines.join('\n')}\n`;

/** Where relative paths resolve in tests. */
export const BASE = '/srv/infra';

/** Parses text that must be valid; relative paths resolve against `baseDir`. */
export function parse(text: string, options: ParseOptions = {}, baseDir = BASE): Inventory {
  return parseManifest(text, 'fleet.yaml', baseDir, { env: { HOME: '/home/alice' }, ...options });
}

/** Parses text that must be invalid; returns its problems as `line:col: message`. */
export function problems(text: string, options: ParseOptions = {}, baseDir = BASE): string[] {
  try {
    parse(text, options, baseDir);
  } catch (e) {
    if (e instanceof ManifestError) {
      for (const p of e.problems) if (p.file !== 'fleet.yaml') throw new Error(`wrong file ${p.file}`);
      return e.problems.map((p) => `${p.line}:${p.column}: ${p.message}`);
    }
    throw e;
  }
  throw new Error('expected a ManifestError, but the manifest was accepted');
}

/** Real-format keys made for these tests (public halves only). */
export const KEYS = {
  a: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILGvbfa+NEiUmkz7+C5fveAgwgJ6/mtnueEoEhnvd2S2',
  b: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKXseMF0PAeB+0Olx4jKjrT7xD0W8bgU6tWKc9SYopMh',
  rsa: 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDNBWweJtwRfbuLGtWq42Ae4xHkJwY/HtlqbBIvWnzchczyqrXJvNLWKoLwr0ddoze6Ibo+GLRBWyMccODX34smJPtVk4O/+4yEt8XdykibkadB+wwvFS9mawrzIv2rnxlEb6f0lXcNbFc7yuNTFfWy71hjbRQnB85NMA41Xa3OFw==',
} as const;

/** The base64 part of a key. */
export const blob = (key: string): string => key.split(' ')[1] ?? '';
