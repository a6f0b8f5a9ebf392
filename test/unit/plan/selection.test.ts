// Host selection: what each selector picks, and that an empty, blank or unmatched selector is a usage error, never "every host".
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import { selectHosts, selectorsFrom, type Selection } from '../../../src/plan/selection.js';
import { host } from './inventory-fixture.js';

const HOSTS = [
  host('web-1', { tags: ['web', 'eu'] }),
  host('web-2', { tags: ['web'] }),
  host('db-1', { tags: ['db', 'eu'] }),
  host('10', { tags: [] }),
];

const select = (selection: Partial<Selection>): string[] =>
  selectHosts(HOSTS, { only: [], tags: [], exclude: [], ...selection }).map((h) => h.name);

const refusal = (run: () => unknown): { message: string; hint?: string } => {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return { message: (e as UsageError).message, hint: (e as UsageError).hint };
  }
  throw new Error('expected a UsageError');
};

describe('selectHosts picks', () => {
  it.each<[string, Partial<Selection>, string[]]>([
    ['every host when nothing is selected', {}, ['web-1', 'web-2', 'db-1', '10']],
    ['a name', { only: ['db-1'] }, ['db-1']],
    ['a numeric name', { only: ['10'] }, ['10']],
    ['names in manifest order', { only: ['db-1', 'web-1'] }, ['web-1', 'db-1']],
    ['a glob', { only: ['web-*'] }, ['web-1', 'web-2']],
    ['a one-character glob', { only: ['web-?'] }, ['web-1', 'web-2']],
    ['"*" as every host, written out', { only: ['*'] }, ['web-1', 'web-2', 'db-1', '10']],
    ['an @tag', { only: ['@eu'] }, ['web-1', 'db-1']],
    ['--tag with or without @', { tags: ['eu', '@db'] }, ['web-1', 'db-1']],
    ['the union of selectors', { only: ['web-2'], tags: ['db'] }, ['web-2', 'db-1']],
    ['every host less the excluded', { exclude: ['web-*'] }, ['db-1', '10']],
    ['a tag less an excluded tag', { only: ['@web'], exclude: ['@eu'] }, ['web-2']],
    ['selectors with white space around them', { only: [' web-1 '], tags: [' db '] }, ['web-1', 'db-1']],
  ])('%s', (_name, selection, expected) => {
    expect(select(selection)).toEqual(expected);
  });
});

describe('selectHosts refuses', () => {
  it.each<[string, Partial<Selection>, string]>([
    ['an empty name', { only: [''] }, 'host selector "" is empty'],
    ['a blank name', { only: ['  '] }, 'host selector "  " is empty'],
    ['an empty tag', { tags: [''] }, 'host selector "" is empty'],
    ['a tag that is only "@"', { only: ['@'] }, 'host selector "@" names no tag'],
    ['an empty exclusion', { exclude: [''] }, 'host selector "" is empty'],
    ['an empty name beside a good one', { only: ['web-1', ''] }, 'host selector "" is empty'],
    ['an unknown name', { only: ['web-9'] }, 'unknown host "web-9"'],
    ['a glob that matches nothing', { only: ['app-*'] }, 'app-* matches no host'],
    ['a tag that matches nothing', { tags: ['nope'] }, 'tag @nope matches no host'],
    ['an @tag that matches nothing', { only: ['@nope'] }, 'tag @nope matches no host'],
    ['an exclusion that matches nothing', { exclude: ['app-*'] }, 'app-* matches no host'],
    ['a selection that leaves no host', { only: ['@web'], exclude: ['web-*'] }, 'the selection leaves no host to act on'],
  ])('%s', (_name, selection, message) => {
    expect(refusal(() => select(selection)).message).toBe(message);
  });

  it('says what exists, a few names at most', () => {
    expect(refusal(() => select({ only: ['nope'] })).hint).toBe('known hosts: web-1, web-2, db-1, 10');
    expect(refusal(() => select({ tags: ['nope'] })).hint).toBe('known tags: @db, @eu, @web');
    const many = Array.from({ length: 20_000 }, (_, i) => host(`h-${i}`));
    const { hint } = refusal(() => selectHosts(many, { only: ['nope'], tags: [], exclude: [] }));
    expect(hint).toBe('known hosts: h-0, h-1, h-2, h-3, h-4, h-5, h-6, h-7, h-8, h-9, h-10, h-11, … (20000 in all)');
  });

  it('refuses a manifest without hosts', () => {
    expect(refusal(() => selectHosts([], { only: [], tags: [], exclude: [] })).message).toBe(
      'the selection leaves no host to act on',
    );
  });
});

describe('selectorsFrom (a flag\'s values → selectors)', () => {
  it.each<[string, unknown, string[]]>([
    ['nothing given', undefined, []],
    ['one value', 'web-1', ['web-1']],
    ['repeated values', ['web-1', 'db-1'], ['web-1', 'db-1']],
    ['comma-separated values', ['web-1,db-1', '@eu'], ['web-1', 'db-1', '@eu']],
    ['white space around items', [' web-1 , db-1 '], ['web-1', 'db-1']],
    ['a number (yargs may give one)', [10], ['10']],
  ])('%s', (_name, values, expected) => {
    expect(selectorsFrom('--only', values)).toEqual(expected);
  });

  const HINT = 'name hosts, globs (web-*) or @tags; leave the selection out to act on every host';
  it.each<[string, string, unknown, string]>([
    ['--only ""', '--only', [''], '--only "" is empty'],
    ['--only= (yargs: an empty list)', '--only', [], '--only was given without a value'],
    ['--tag ""', '--tag', [''], '--tag "" is empty'],
    ['--tag "   " (white space only)', '--tag', ['   '], '--tag "   " is empty'],
    ['--tag "\\t\\n"', '--tag', ['\t\n'], '--tag "\\t\\n" is empty'],
    ['--tag @', '--tag', ['@'], '--tag "@" names no tag'],
    ['--exclude ""', '--exclude', [''], '--exclude "" is empty'],
    ['a positional ""', 'host argument', [''], 'host argument "" is empty'],
    ['a positional "@ "', 'host argument', ['@ '], 'host argument "@ " names no tag'],
    ['an empty value beside good ones', '--only', ['web-1', ''], '--only "" is empty'],
    ['a trailing comma', '--only', ['web-1,'], '--only "web-1," has an item that is empty'],
    ['two commas', '--only', ['web-1,,db-1'], '--only "web-1,,db-1" has an item that is empty'],
    ['a lone comma', '--exclude', [','], '--exclude "," has an item that is empty'],
  ])('refuses %s, naming the flag', (_name, flag, values, start) => {
    const { message, hint } = refusal(() => selectorsFrom(flag, values));
    expect(message).toBe(`${start}: an empty selector selects nothing, not every host`);
    expect(message).not.toContain('\n');
    expect(hint).toBe(HINT);
  });
});
