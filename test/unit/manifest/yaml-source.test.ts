// Reading manifest text with the `yaml` library: data as the YAML 1.2 core schema reads it, syntax
// problems and duplicate keys with their positions, and positions found again for data paths.
import { describe, expect, it } from 'vitest';
import { readYaml } from '../../../src/manifest/yaml-source.js';
import { yaml } from './helpers.js';

describe('readYaml', () => {
  it('reads scalars as the YAML 1.2 core schema does, and `<<` merges', () => {
    const source = readYaml(
      yaml(
        'ints: [0, -7, +12, 0o17, 0x1F]',
        'floats: [1.5, -.5, 1e3, .inf, -.Inf]',
        'bools: [true, True, false, yes, no, on]',
        'nulls: [~, null, Null]',
        'empty:',
        'strings: ["0400", 2024-01-01, 0b101]',
        'merged: { <<: { x: 1, y: 2 }, y: 3 }',
      ),
    );
    expect(source.syntaxErrors).toEqual([]);
    expect(source.data).toEqual({
      ints: [0, -7, 12, 15, 31],
      floats: [1.5, -0.5, 1000, Infinity, -Infinity],
      // YAML 1.1's yes/no/on are strings in 1.2.
      bools: [true, true, false, 'yes', 'no', 'on'],
      nulls: [null, null, null],
      empty: null,
      strings: ['0400', '2024-01-01', '0b101'],
      merged: { x: 1, y: 3 },
    });
  });

  it('shared nodes (aliases) are read by the yaml library, which bounds their expansion', () => {
    const text = yaml('base: &b { a: 1 }', 'one: *b', 'two: { <<: *b, c: 2 }');
    expect(readYaml(text).data).toEqual({ base: { a: 1 }, one: { a: 1 }, two: { a: 1, c: 2 } });

    const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 8; i++) lines.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]`);
    const bomb = readYaml(yaml(...lines));
    expect(bomb.data).toBeUndefined();
    expect(bomb.syntaxErrors[0]?.message).toMatch(/alias/i);
  });

  it('syntax errors, duplicate keys and several documents are reported with their position', () => {
    const duplicate = readYaml(yaml('hosts:', '  a: {}', '  a: {}'));
    expect(duplicate.duplicateKeys).toEqual([{ line: 3, column: 3, message: 'hosts: duplicate key "a"' }]);

    const broken = readYaml(yaml('hosts:', '  a: [1, 2', 'x: 1'));
    expect(broken.syntaxErrors.length).toBeGreaterThan(0);
    expect(broken.syntaxErrors[0]?.message).toMatch(/^invalid YAML: /);

    const twoDocuments = readYaml(yaml('version: 1', '---', 'version: 2'));
    expect(twoDocuments.syntaxErrors[0]?.message).toMatch(/^invalid YAML: /);
  });

  it('positions are found for data paths', () => {
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
