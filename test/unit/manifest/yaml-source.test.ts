// The two YAML readers: the fast one (js-yaml) must give exactly the data the `yaml` library gives,
// and hand over to it for everything it cannot be trusted with.
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { describe, expect, it } from 'vitest';
import { readYaml } from '../../../src/manifest/yaml-source.js';
import { generateManifest } from '../../../bench/manifest-scale.js';
import { yaml } from './helpers.js';

/** What the `yaml` library reads, with the options fleet gives it. */
function reference(text: string): unknown {
  return parseDocument(text, { uniqueKeys: false, merge: true }).toJS({ maxAliasCount: 100 });
}

const file = (path: string): string => readFileSync(new URL(`../../../${path}`, import.meta.url), 'utf8');

describe('readYaml', () => {
  const manifests: [string, string][] = [
    ['fleet.example.yaml', file('fleet.example.yaml')],
    ['examples/minimal', file('examples/minimal/fleet.yaml')],
    ['examples/homelab', file('examples/homelab/fleet.yaml')],
    ['examples/ci', file('examples/ci/fleet.yaml')],
    ['test fixture', file('test/fixtures/manifest/fleet.yaml')],
    ['generated, 300 hosts', generateManifest(300)],
  ];
  it.each(manifests)('reads %s as the yaml library does', (_, text) => {
    expect(readYaml(text).data).toEqual(reference(text));
  });

  it('reads every kind of scalar as the YAML 1.2 core schema does', () => {
    const text = yaml(
      'ints: [0, -7, +12, 0o17, 0x1F, 007, 1_000]',
      'floats: [1.5, -.5, 1e3, 6.02E+23, .inf, -.Inf, .nan]',
      'edges: [+.5, 1., 0x, 0o8, -0, 1e, .5e3, 12345678901234567890, +0x1F, -0o7, 1.2.3, +.inf, .NaN, 0X1F]',
      'bools: [true, True, TRUE, false, yes, no, on, off, y, n]',
      'nulls: [~, null, Null, NULL, ]',
      'empty:',
      'strings: ["0400", \'a: b\', 2024-01-01, 12:30:00, 0b101, "\\t\\u00e9"]',
      'block: |',
      '  line one',
      '  line two',
      'folded: >-',
      '  folded',
      '  text',
      'flow: { a: [1, { b: c }], "d e": f }',
      'merged: { <<: { x: 1, y: 2 }, y: 3 }',
      'mergedList: { <<: [{ p: 1 }, { p: 2, q: 3 }] }',
      '1: numeric key',
    );
    const source = readYaml(text);
    expect(source.syntaxErrors).toEqual([]);
    expect(source.data).toEqual(reference(text));
  });

  it('shared nodes (aliases) are read by the yaml library, which bounds their expansion', () => {
    const text = yaml('base: &b { a: 1 }', 'one: *b', 'two: { <<: *b, c: 2 }');
    expect(readYaml(text).data).toEqual(reference(text));

    const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 8; i++) lines.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]`);
    const bomb = readYaml(yaml(...lines));
    expect(bomb.data).toBeUndefined();
    expect(bomb.syntaxErrors[0]?.message).toMatch(/alias/i);
  });

  it('what js-yaml refuses is reported by the yaml library, with its position', () => {
    const duplicate = readYaml(yaml('hosts:', '  a: {}', '  a: {}'));
    expect(duplicate.duplicateKeys).toEqual([{ line: 3, column: 3, message: 'hosts: duplicate key "a"' }]);

    const broken = readYaml(yaml('hosts:', '  a: [1, 2', 'x: 1'));
    expect(broken.syntaxErrors.length).toBeGreaterThan(0);
    expect(broken.syntaxErrors[0]?.message).toMatch(/^invalid YAML: /);

    const twoDocuments = readYaml(yaml('version: 1', '---', 'version: 2'));
    expect(twoDocuments.syntaxErrors[0]?.message).toMatch(/^invalid YAML: /);
  });

  it('positions are found for data read by the fast reader', () => {
    const source = readYaml(yaml('version: 1', 'hosts:', '  web:', '    target: root@a', '    mode: nope'));
    expect(source.locate(['hosts', 'web', 'mode'])).toEqual({ line: 5, column: 11 });
    expect(source.locate(['hosts', 'web', 'mode'], 'key')).toEqual({ line: 5, column: 5 });
  });

  it('host names keep the order written, integer-like ones too', () => {
    const source = readYaml(yaml('hosts:', '  web: {}', '  "10": {}', '  db: {}', '  2: {}'));
    expect(source.keysAt(['hosts'])).toEqual(['web', '10', 'db', '2']);
    expect(readYaml(yaml('hosts:', '  web: {}', '  db: {}')).keysAt(['hosts'])).toEqual(['web', 'db']);
  });
});
