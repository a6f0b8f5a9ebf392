// `nix --version` is remembered per nix binary: asked once, asked again for another binary.
import { chmodSync, existsSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { detectNixVersion } from '../../../src/cli/context.js';
import type { Exec } from '../../../src/exec/index.js';
import type { ToolCommands } from '../../../src/manifest/inventory.js';

let dir: string;
let nix: string;
let cache: string;
let asked: string[][];

const exec: Exec = async (request) => {
  asked.push([...request.argv]);
  return { exitCode: 0, signal: null, stdout: 'nix (Nix) 2.8.0\n', stderr: '', timedOut: false };
};

function commands(nixArgv: string[]): ToolCommands {
  return { nix: nixArgv, nixosRebuild: ['nixos-rebuild'], nixosAnywhere: ['nixos-anywhere'], nixosInstall: ['nixos-install'] };
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fleet-nix-version-'));
  nix = join(dir, 'nix');
  writeFileSync(nix, '#!/bin/sh\necho "nix (Nix) 2.8.0"\n');
  chmodSync(nix, 0o755);
  cache = join(dir, 'cache', 'fleet');
  asked = [];
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('detectNixVersion', () => {
  it('asks a nix binary once, then answers from the cache', async () => {
    expect(await detectNixVersion(commands([nix]), exec, cache)).toBe('nix (Nix) 2.8.0');
    expect(await detectNixVersion(commands([nix]), exec, cache)).toBe('nix (Nix) 2.8.0');
    expect(asked).toEqual([[nix, '--version']]);
    expect(existsSync(join(cache, 'nix-version.json'))).toBe(true);
  });

  it('asks again when the binary changed (another nix at the same path)', async () => {
    await detectNixVersion(commands([nix]), exec, cache);
    writeFileSync(nix, '#!/bin/sh\necho "nix (Nix) 2.24.9"\n');
    utimesSync(nix, new Date(), new Date(Date.now() + 5000));
    await detectNixVersion(commands([nix]), exec, cache);
    expect(asked).toHaveLength(2);
  });

  it('finds the binary on PATH as exec does', async () => {
    const saved = process.env.PATH;
    process.env.PATH = `${dir}:${saved}`;
    try {
      await detectNixVersion(commands(['nix']), exec, cache);
      await detectNixVersion(commands(['nix']), exec, cache);
      expect(asked).toHaveLength(1);
    } finally {
      process.env.PATH = saved;
    }
  });

  it('always asks a command of several words, or without a cache directory', async () => {
    for (let i = 0; i < 2; i++) await detectNixVersion(commands(['nix', 'run', 'nixpkgs#nix', '--']), exec, cache);
    for (let i = 0; i < 2; i++) await detectNixVersion(commands([nix]), exec, null);
    expect(asked).toHaveLength(4);
    expect(existsSync(join(cache, 'nix-version.json'))).toBe(false);
  });

  it('remembers no failed answer', async () => {
    const failing: Exec = async (request) => {
      asked.push([...request.argv]);
      return { exitCode: 1, signal: null, stdout: '', stderr: 'nix: broken\n', timedOut: false };
    };
    expect(await detectNixVersion(commands([nix]), failing, cache)).toBe('');
    expect(await detectNixVersion(commands([nix]), exec, cache)).toBe('nix (Nix) 2.8.0');
    expect(asked).toHaveLength(2);
  });
});
