import { readFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { contextArgsFrom, type PlanArgs } from '../../../src/cli/commands/plan.js';
import { describeError } from '../../../src/cli/main.js';
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
    ['-f', { file: 'x.yaml' }, { file: 'x.yaml' }],
  ])('%s', (_name, args, expected) => {
    expect(contextArgsFrom(args)).toMatchObject(expected);
  });

  it.each<[string, PlanArgs, RegExp]>([
    ['two modes', { boot: true, test: true }, /choose one of --boot, --test/],
    ['negative parallel', { parallel: -1 }, /--parallel must be a whole number/],
    ['fractional parallel', { parallel: 1.5 }, /--parallel must be a whole number/],
    ['negative lock timeout', { 'lock-timeout': -2 }, /--lock-timeout must be a number of seconds/],
  ])('rejects %s', (_name, args, message) => {
    expect(() => contextArgsFrom(args)).toThrow(UsageError);
    expect(() => contextArgsFrom(args)).toThrow(message);
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
