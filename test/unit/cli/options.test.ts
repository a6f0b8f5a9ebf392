import { readFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { contextArgsFrom, type PlanArgs } from '../../../src/cli/commands/plan.js';
import { describeError, main } from '../../../src/cli/main.js';
import { operateArgsFrom, selectionFrom, type CommonArgs } from '../../../src/cli/options.js';
import { CommandError, FleetError, HostError, ManifestError, UsageError } from '../../../src/errors.js';
import { loadManifest } from '../../../src/manifest/index.js';

describe('argv → options', () => {
  it.each<[string, PlanArgs, Partial<ReturnType<typeof contextArgsFrom>>]>([
    ['nothing', {}, { selection: { only: [], tags: [], exclude: [] }, modeOverride: undefined, parallel: undefined, force: false, failFast: false, allowBootstrap: false }],
    ['positional hosts and --only merge', { hosts: ['a'], only: ['b,c'] }, { selection: { only: ['b', 'c', 'a'], tags: [], exclude: [] } }],
    ['tags and excludes', { tag: ['vps', 'eu'], exclude: ['web-*'] }, { selection: { only: [], tags: ['vps', 'eu'], exclude: ['web-*'] } }],
    ['--boot', { boot: true }, { modeOverride: 'boot' }],
    ['--dry-activate', { 'dry-activate': true }, { modeOverride: 'dry-activate' }],
    ['--parallel 0 is unlimited', { parallel: 0 }, { parallel: 0 }],
    ['--yes --force --fail-fast', { yes: true, force: true, 'fail-fast': true }, { allowBootstrap: true, force: true, failFast: true }],
    ['--lock-timeout 0', { 'lock-timeout': 0 }, { lockTimeout: 0 }],
    ['--eval-limit and --eval-jobs', { 'eval-limit': 2, 'eval-jobs': 3 }, { evalLimit: 2, evalJobs: 3 }],
    ['neither: chosen when planning (free memory, cores)', {}, { evalLimit: undefined, evalJobs: undefined }],
    ['-f', { file: 'x.yaml' }, { file: 'x.yaml' }],
    ['--no-eval-cache', { 'eval-cache': false }, { evalCache: false }],
    ['--impure', { impure: true }, { impure: true }],
  ])('%s', (_name, args, expected) => {
    expect(contextArgsFrom(args)).toMatchObject(expected);
  });

  it('uses the evaluation cache and evaluates purely unless told otherwise', () => {
    const context = contextArgsFrom({ 'eval-cache': true });
    expect('evalCache' in context || 'impure' in context).toBe(false);
  });

  it.each<[string, PlanArgs, RegExp]>([
    ['two modes', { boot: true, test: true }, /choose one of --boot, --test/],
    ['negative parallel', { parallel: -1 }, /--parallel must be a whole number/],
    ['fractional parallel', { parallel: 1.5 }, /--parallel must be a whole number/],
    ['negative lock timeout', { 'lock-timeout': -2 }, /--lock-timeout must be a number of seconds/],
    ['--eval-jobs 0', { 'eval-jobs': 0 }, /--eval-jobs must be a whole number ≥ 1 \(got 0\)/],
    ['--eval-limit 0', { 'eval-limit': 0 }, /--eval-limit must be a whole number ≥ 1 \(got 0\)/],
    ['fractional --eval-jobs', { 'eval-jobs': 1.5 }, /--eval-jobs must be a whole number ≥ 1/],
  ])('rejects %s', (_name, args, message) => {
    expect(() => contextArgsFrom(args)).toThrow(UsageError);
    expect(() => contextArgsFrom(args)).toThrow(message);
  });
});

describe('an empty selection is a usage error, never every host', () => {
  const EMPTY = 'an empty selector selects nothing, not every host';
  it.each<[string, CommonArgs, string]>([
    ['--only ""', { only: [''] }, '--only "" is empty'],
    ['--only= (yargs: an empty list)', { only: [] }, '--only was given without a value'],
    ['--only "  "', { only: ['  '] }, '--only "  " is empty'],
    ['--only "web-1,"', { only: ['web-1,'] }, '--only "web-1," has an item that is empty'],
    ['--tag ""', { tag: [''] }, '--tag "" is empty'],
    ['--tag=', { tag: [] }, '--tag was given without a value'],
    ['--tag @', { tag: ['@'] }, '--tag "@" names no tag'],
    ['--exclude ""', { exclude: [''] }, '--exclude "" is empty'],
    ['--exclude=', { exclude: [] }, '--exclude was given without a value'],
    ['a positional ""', { hosts: [''] }, 'host argument "" is empty'],
    ['a positional tab', { hosts: ['\t'] }, 'host argument "\\t" is empty'],
    ['a positional "" beside a name', { hosts: ['web-1', ''] }, 'host argument "" is empty'],
  ])('%s', (_name, args, start) => {
    for (const map of [selectionFrom, contextArgsFrom, operateArgsFrom]) {
      expect(() => map(args)).toThrow(UsageError);
      expect(() => map(args)).toThrow(`${start}: ${EMPTY}`);
    }
  });

  it.each<[string, CommonArgs, ReturnType<typeof selectionFrom>]>([
    ['no positional hosts (yargs: an empty list) means every host', { hosts: [] }, { only: [], tags: [], exclude: [] }],
    ['nothing at all means every host', {}, { only: [], tags: [], exclude: [] }],
    ['white space around names is dropped', { only: [' web-1 '], tag: ['eu '] }, { only: ['web-1'], tags: ['eu'], exclude: [] }],
  ])('%s', (_name, args, expected) => {
    expect(selectionFrom(args)).toEqual(expected);
  });

  describe('through the real command line, before the manifest is read', () => {
    afterEach(() => vi.restoreAllMocks());
    /** Runs fleet with a manifest that does not exist: a command that got past the selection would say so. */
    const fleet = async (command: string, ...flags: string[]): Promise<{ code: number; stderr: string }> => {
      let stderr = '';
      vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
        stderr += String(chunk);
        return true;
      });
      vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
      // -f first, so that a flag at the end is given exactly as the table says (`--only=` last is an empty list).
      const code = await main([command, '-f', '/nonexistent/fleet-selection-test.yaml', ...flags]);
      return { code, stderr };
    };
    const SELECTING = ['plan', 'apply', 'build', 'push-keys', 'status', 'check', 'rollback', 'reboot'];
    it.each(
      SELECTING.flatMap((command) => [
        [command, ['--only', ''], '--only "" is empty'],
        [command, ['--only='], '--only was given without a value'],
        [command, ['--only=', '--only', 'web-1'], '--only "" is empty'],
        [command, ['--tag', ' '], '--tag " " is empty'],
        [command, ['--exclude', ''], '--exclude "" is empty'],
        [command, [''], 'host argument "" is empty'],
      ] as [string, string[], string][]),
    )('fleet %s %j: exit 2', async (command, flags, start) => {
      const { code, stderr } = await fleet(command, ...flags);
      expect(code).toBe(2);
      expect(stderr.split('\n')[0]).toBe(`fleet: ${start}: ${EMPTY}`);
    });

    it.each(['plan', 'apply', 'validate', 'status'])('fleet %s -f a -f b: one manifest per run, exit 2', async (command) => {
      vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
      let stderr = '';
      vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
        stderr += String(chunk);
        return true;
      });
      expect(await main([command, '-f', '/nonexistent/a.yaml', '-f', '/nonexistent/b.yaml'])).toBe(2);
      expect(stderr).toMatch(/-f\/--file given 2 times: name one manifest/);
      expect(stderr).not.toMatch(/internal error/);
    });

    it.each([
      [['exec', '--only', '', '--', 'true'], '--only "" is empty'],
      [['exec', '', '--', 'true'], 'host argument "" is empty'],
      [['bootstrap', ''], 'host argument "" is empty'],
    ])('fleet %j: exit 2', async (argv, start) => {
      const [command = '', ...flags] = argv;
      const { code, stderr } = await fleet(command, ...flags);
      expect(code).toBe(2);
      expect(stderr.split('\n')[0]).toBe(`fleet: ${start}: ${EMPTY}`);
    });
  });
});

describe('describeError (the one catch)', () => {
  it('maps user errors to one line (plus a hint) and exit 2, never a stack', () => {
    const manifest = describeError(new ManifestError([{ file: 'fleet.yaml', line: 3, column: 5, message: 'bad' }]));
    expect(manifest).toEqual({ lines: ['fleet.yaml:3:5: bad', 'hint: fix the lines above and run `fleet validate` again'], exitCode: 2 });
    expect(describeError(new UsageError('unknown host "x"', 'known hosts: a'))).toEqual({ lines: ['fleet: unknown host "x"', 'hint: known hosts: a'], exitCode: 2 });
    expect(describeError(new FleetError('fleet.yaml: no such file', 'MANIFEST')).exitCode).toBe(2);
  });

  it('maps host and command failures to exit 1', () => {
    expect(describeError(new HostError('web-1', 'deploy', 'boom')).exitCode).toBe(1);
    expect(describeError(new CommandError(['nix'], 1, null, [])).exitCode).toBe(1);
  });

  it('says an unexpected error is internal, without a stack unless FLEET_DEBUG is set', () => {
    const { lines } = describeError(new TypeError('x is undefined'));
    expect(lines[0]).toBe('fleet: internal error: x is undefined');
    expect(lines.join('\n')).not.toContain('at ');
  });
});

describe('the README stays true', () => {
  it('its manifest example validates', async () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    const yaml = readme.match(/```yaml\n([\s\S]*?)```/)?.[1];
    expect(yaml).toBeDefined();
    const dir = mkdtempSync(join(tmpdir(), 'readme-'));
    writeFileSync(join(dir, 'fleet.yaml'), yaml as string);
    const inventory = await loadManifest(join(dir, 'fleet.yaml'), { env: { HOME: '/root' } });
    expect(inventory.hosts.map((h) => h.name)).toEqual(['desk', 'vps-pacman', 'web-1']);
  });
});
