// scripts/gen-types.ts on schemas other than ours: the layouts our two schemas do not reach, and the refusals.
import { describe, expect, it } from 'vitest';
import { renderTypes, SchemaTypesError, type Schema } from '../../../scripts/gen-types.js';

const render = (schema: Schema): string => renderTypes(schema, 'Root', '// banner', 'test.schema.json');

describe('gen-types', () => {
  it('writes aliases before interfaces, each in the order the root reaches them', () => {
    const schema: Schema = {
      description: 'The root.',
      type: 'object',
      required: ['version', 'items'],
      properties: {
        version: { const: 1 },
        items: { type: 'array', minItems: 1, items: { $ref: '#/definitions/item' } },
        byName: { type: 'object', additionalProperties: { $ref: '#/definitions/item' } },
        'odd-key': { type: ['string', 'null'] },
      },
      definitions: {
        item: {
          title: 'Item',
          type: 'object',
          additionalProperties: false,
          required: ['size'],
          properties: { size: { $ref: '#/definitions/size', description: 'not used: the definition speaks' }, tags: { type: 'array', items: { enum: ['a', "it's"] } } },
        },
        size: { description: 'Bytes.', type: 'integer' },
      },
    };
    expect(render(schema)).toBe(
      [
        '// banner',
        '',
        '/**',
        ' * Bytes.',
        ' */',
        'export type Size = number;',
        '',
        '/**',
        ' * The root.',
        ' */',
        'export interface Root {',
        '  version: 1;',
        '  /**',
        '   * @minItems 1',
        '   */',
        '  items: Item[];',
        '  byName?: {',
        '    [k: string]: Item | undefined;',
        '  };',
        "  'odd-key'?: string | null;",
        '}',
        'export interface Item {',
        '  size: Size;',
        `  tags?: ('a' | "it's")[];`,
        '}',
        '',
      ].join('\n'),
    );
  });

  it('breaks a union that does not fit in 100 columns, and one with an object member, one member per line', () => {
    const word = (n: number): string => `value-number-${n}`;
    const schema: Schema = {
      type: 'object',
      properties: {
        fits: { $ref: '#/definitions/fits' },
        long: { $ref: '#/definitions/long' },
        inline: { enum: Array.from({ length: 8 }, (_, i) => word(i)) },
        either: { $ref: '#/definitions/either' },
      },
      definitions: {
        fits: { enum: Array.from({ length: 5 }, (_, i) => word(i)) },
        long: { enum: Array.from({ length: 8 }, (_, i) => word(i)) },
        either: { type: ['boolean', 'object'], properties: { on: { type: 'boolean' } } },
      },
    };
    const five = Array.from({ length: 5 }, (_, i) => `'${word(i)}'`);
    const eight = Array.from({ length: 8 }, (_, i) => `'${word(i)}'`);
    expect(render(schema)).toBe(
      [
        '// banner',
        '',
        `export type Fits =\n  ${five.join(' | ')};`,
        `export type Long =\n${eight.map((w) => `  | ${w}`).join('\n')};`,
        'export type Either =',
        '  | boolean',
        '  | {',
        '      on?: boolean;',
        '    };',
        '',
        'export interface Root {',
        '  fits?: Fits;',
        '  long?: Long;',
        `  inline?:\n${eight.map((w) => `    | ${w}`).join('\n')};`,
        '  either?: Either;',
        '}',
        '',
      ].join('\n'),
    );
    for (const line of render(schema).split('\n')) expect(line.length).toBeLessThanOrEqual(100);
  });

  it.each<[string, Schema, string]>([
    ['a keyword it does not handle', { type: 'object', properties: { x: { allOf: [] } as Schema } }, 'test.schema.json: #/properties/x: keyword "allOf" is not handled'],
    ['a $ref outside #/definitions', { type: 'object', properties: { x: { $ref: 'other.json#/a' } } }, 'test.schema.json: #/properties/x/$ref: other.json#/a is not a definition'],
    ['a $ref to a missing definition', { type: 'object', properties: { x: { $ref: '#/definitions/gone' } } }, '#/definitions/gone is not a definition'],
    ['a type beside a $ref', { type: 'object', properties: { x: { $ref: '#/definitions/a', type: 'string' } }, definitions: { a: { type: 'string' } } }, '"type" beside "$ref"'],
    ['a type beside oneOf', { type: 'object', properties: { x: { type: 'string', oneOf: [] } } }, '"type" beside "oneOf"'],
    ['two types of one name', { type: 'object', properties: { a: { $ref: '#/definitions/a' }, b: { $ref: '#/definitions/b' } }, definitions: { a: { title: 'Same', type: 'string' }, b: { title: 'Same', type: 'number' } } }, 'a second type is named Same'],
    ['an object literal', { type: 'object', properties: { x: { const: { a: 1 } } } }, '#/properties/x/const: {"a":1} is not a string, number or boolean'],
    ['an unknown type', { type: 'object', properties: { x: { type: 'date' } } }, '#/properties/x/type: type "date" is not a JSON Schema type'],
  ])('refuses %s, naming where', (_, schema, message) => {
    expect(() => render(schema)).toThrow(SchemaTypesError);
    expect(() => render(schema)).toThrow(message);
  });
});
