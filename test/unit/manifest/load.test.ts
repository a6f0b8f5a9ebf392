// Loading from disk: which file, missing files, positions in real files, and the shipped examples.
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { FleetError, ManifestError } from '../../../src/errors.js';
import { loadManifest, MAX_MANIFEST_BYTES, resolveManifestPath } from '../../../src/manifest/index.js';

const fixtures = fileURLToPath(new URL('../../fixtures/manifest/', import.meta.url)).replace(/\/$/, '');
const root = fileURLToPath(new URL('../../../', import.meta.url)).replace(/\/$/, '');
const env = { HOME: '/home/alice' };

describe('resolveManifestPath', () => {
  it.each([
    ['the flag first', 'prod.yaml', { FLEET_FILE: 'other.yaml' }, '/work/prod.yaml'],
    ['an absolute flag', '/etc/fleet/fleet.yaml', {}, '/etc/fleet/fleet.yaml'],
    ['FLEET_FILE without a flag', undefined, { FLEET_FILE: 'infra/fleet.yaml' }, '/work/infra/fleet.yaml'],
    ['./fleet.yaml by default', undefined, {}, '/work/fleet.yaml'],
    ['empty values as unset', '', { FLEET_FILE: '' }, '/work/fleet.yaml'],
  ])('takes %s', (_name, flag, vars, expected) => {
    expect(resolveManifestPath(flag, vars, '/work')).toBe(expected);
  });
});

describe('loadManifest', () => {
  it('resolves paths against the manifest directory', async () => {
    const inventory = await loadManifest(`${fixtures}/fleet.yaml`, { env, cwd: root });
    expect(inventory.manifestPath).toBe(`${fixtures}/fleet.yaml`);
    expect(inventory.flake).toBe(`${fixtures}/flake`);
    expect(inventory.hosts[0]?.identityFile).toBe(`${fixtures}/keys/deploy`);
    expect(inventory.hosts[0]?.keys?.hostKeySearch).toEqual([
      `${root}/test/fixtures/host-keys`,
      '/var/lib/fleet/keys',
    ]);
  });

  it('reads a path relative to cwd', async () => {
    const inventory = await loadManifest('nested/fleet.yaml', { env, cwd: fixtures });
    expect(inventory.manifestPath).toBe(`${fixtures}/nested/fleet.yaml`);
    expect(inventory.flake).toBe('github:example/infra');
  });

  it('reports every problem with the file as given relative to cwd', async () => {
    const error = await loadManifest('test/fixtures/manifest/broken.yaml', { env, cwd: root }).catch((e) => e);
    expect(error).toBeInstanceOf(ManifestError);
    expect((error as ManifestError).problems).toEqual([
      {
        file: 'test/fixtures/manifest/broken.yaml',
        line: 5,
        column: 11,
        message: 'hosts.web-1.mode must be one of switch, boot, test, dry-activate (got "swtich")',
      },
      {
        file: 'test/fixtures/manifest/broken.yaml',
        line: 6,
        column: 5,
        message: 'hosts.web-1: unknown key "tgt" (did you mean "target"?)',
      },
    ]);
    expect((error as ManifestError).message).toBe(
      [
        'test/fixtures/manifest/broken.yaml:5:11: hosts.web-1.mode must be one of switch, boot, test, dry-activate (got "swtich")',
        'test/fixtures/manifest/broken.yaml:6:5: hosts.web-1: unknown key "tgt" (did you mean "target"?)',
      ].join('\n'),
    );
  });

  it('shows an absolute file name outside cwd', async () => {
    const error = (await loadManifest(`${fixtures}/broken.yaml`, { env, cwd: '/' }).catch((e) => e)) as ManifestError;
    expect(error.problems[0]?.file).toBe(`${fixtures}/broken.yaml`.slice(1));
    const outside = (await loadManifest(`${fixtures}/broken.yaml`, { env, cwd: `${fixtures}/nested` }).catch(
      (e) => e,
    )) as ManifestError;
    expect(outside.problems[0]?.file).toBe(`${fixtures}/broken.yaml`);
  });

  it('says plainly when the file does not exist', async () => {
    const error = await loadManifest('fleet.yaml', { env, cwd: `${fixtures}/nowhere` }).catch((e) => e);
    expect(error).toBeInstanceOf(FleetError);
    expect(error).not.toBeInstanceOf(ManifestError);
    expect((error as FleetError).code).toBe('MANIFEST');
    expect((error as FleetError).message).toBe(`fleet.yaml: no such file (looked in ${fixtures}/nowhere/fleet.yaml)`);
    expect((error as FleetError).hint).toMatch(/FLEET_FILE/);
  });

  it('says plainly when the path is a directory', async () => {
    const error = (await loadManifest(fixtures, { env, cwd: root }).catch((e) => e)) as FleetError;
    expect(error.code).toBe('MANIFEST');
    expect(error.message).toBe(`manifest: is a directory (${fixtures})`);
  });
});

describe('the size limit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fleet-size-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  /** A valid manifest padded with a comment to exactly `bytes` bytes (sparse: a comment of NULs is never read as YAML). */
  const manifestOf = (name: string, bytes: number): string => {
    const file = join(dir, name);
    writeFileSync(file, 'version: 1\nhosts:\n  web-1: {}\n');
    truncateSync(file, bytes);
    return file;
  };

  it('is 16 MiB', () => {
    expect(MAX_MANIFEST_BYTES).toBe(16 * 1024 * 1024);
  });

  it.each([
    ['one byte over', MAX_MANIFEST_BYTES + 1, '16.0 MiB'],
    ['50 MiB', 50 * 1024 * 1024, '50.0 MiB'],
  ])('refuses a manifest %s, naming the file, its size and the limit', async (_name, bytes, size) => {
    const file = manifestOf('big.yaml', bytes);
    const error = (await loadManifest('big.yaml', { env, cwd: dir }).catch((e) => e)) as FleetError;
    expect(error).toBeInstanceOf(FleetError);
    expect(error).not.toBeInstanceOf(ManifestError);
    expect(error.code).toBe('MANIFEST');
    expect(error.message).toBe(`big.yaml: the manifest is ${size}, over the limit of 16 MiB; not read`);
    expect(error.hint).toMatch(/-f/);
    rmSync(file);
  });

  it('stops reading a stream without a size (a pipe, a device) once it passes the limit', async () => {
    const error = (await loadManifest('/dev/zero', { env, cwd: dir }).catch((e) => e)) as FleetError;
    expect(error).toBeInstanceOf(FleetError);
    expect(error.code).toBe('MANIFEST');
    expect(error.message).toBe('/dev/zero: the manifest is over the limit of 16 MiB; reading stopped there');
  });

  it('reads a manifest of exactly the limit', async () => {
    // NULs after the content: YAML refuses them, which proves the whole file was read and parsed.
    manifestOf('limit.yaml', MAX_MANIFEST_BYTES);
    const error = (await loadManifest('limit.yaml', { env, cwd: dir }).catch((e) => e)) as ManifestError;
    expect(error).toBeInstanceOf(ManifestError);
    expect(error.problems[0]).toMatchObject({ file: 'limit.yaml', line: 4 });
  });
});

describe('shipped examples', () => {
  it.each(['fleet.example.yaml', 'examples/minimal/fleet.yaml', 'examples/homelab/fleet.yaml', 'examples/ci/fleet.yaml'])(
    '%s validates',
    async (file) => {
      const inventory = await loadManifest(file, { env, cwd: root });
      expect(inventory.hosts.length).toBeGreaterThan(0);
    },
  );

  it('fleet.example.yaml declares its schema and covers the documented situations', async () => {
    const { readFile } = await import('node:fs/promises');
    const text = await readFile(`${root}/fleet.example.yaml`, 'utf8');
    expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=./schemas/fleet.schema.json');
    const inventory = await loadManifest('fleet.example.yaml', { env, cwd: root });
    const byName = new Map(inventory.hosts.map((h) => [h.name, h]));
    const desk = byName.get('desk');
    expect(desk?.target).toEqual({ kind: 'local' });
    expect(desk?.mode).toBe('boot');
    const vps = byName.get('vps-pacman');
    expect(vps?.bootstrap?.noDiskoDeps).toBe(true);
    expect(vps?.keys).toMatchObject({
      generate: true,
      destination: '/persist/etc/ssh',
      hostKeySearch: [`${root}/secrets/host-keys`],
    });
    expect(byName.get('status.example.net')?.target).toEqual({
      kind: 'ssh',
      user: 'root',
      host: 'status.example.net',
      port: 22,
    });
    const tagged = inventory.hosts.filter((h) => h.tags.includes('homelab'));
    expect(tagged.length).toBeGreaterThanOrEqual(2);
    expect(tagged.every((h) => h.buildHost.kind === 'ssh' && h.hostKeys.length > 0)).toBe(true);
  });

  it('the homelab example uses tags and a build host; the CI example pins every key', async () => {
    const homelab = await loadManifest('examples/homelab/fleet.yaml', { env, cwd: root });
    expect(homelab.hosts.some((h) => h.buildHost.kind === 'ssh')).toBe(true);
    expect(homelab.hosts.every((h) => h.tags.includes('homelab'))).toBe(true);
    const ci = await loadManifest('examples/ci/fleet.yaml', { env: {}, cwd: root });
    expect(ci.hosts.every((h) => h.hostKeys.length > 0 && !h.trustOnFirstUse)).toBe(true);
  });
});
