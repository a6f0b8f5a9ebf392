// `nix --version` is asked of the manifest's nix command, with its words as given; a nix that
// cannot run or fails answers '' (the plan then assumes an old Nix), never a stale answer.
import { describe, expect, it } from 'vitest';
import { detectNixVersion } from '../../../src/cli/context.js';
import type { Exec, ExecResult } from '../../../src/exec/index.js';
import type { ToolCommands } from '../../../src/manifest/inventory.js';

function commands(nixArgv: string[]): ToolCommands {
  return { nix: nixArgv, nixosRebuild: ['nixos-rebuild'], nixosAnywhere: ['nixos-anywhere'], nixosInstall: ['nixos-install'] };
}

function answering(result: Partial<ExecResult> | Error): { exec: Exec; asked: string[][] } {
  const asked: string[][] = [];
  const exec: Exec = async (request) => {
    asked.push([...request.argv]);
    if (result instanceof Error) throw result;
    return { exitCode: 0, signal: null, stdout: '', stderr: '', timedOut: false, ...result };
  };
  return { exec, asked };
}

describe('detectNixVersion', () => {
  it('asks the manifest nix command each time, with its own words', async () => {
    const { exec, asked } = answering({ stdout: 'nix (Nix) 2.8.0\n' });
    expect(await detectNixVersion(commands(['nix']), exec)).toBe('nix (Nix) 2.8.0');
    expect(await detectNixVersion(commands(['nix', 'run', 'nixpkgs#nix', '--']), exec)).toBe('nix (Nix) 2.8.0');
    expect(asked).toEqual([
      ['nix', '--version'],
      ['nix', 'run', 'nixpkgs#nix', '--', '--version'],
    ]);
  });

  it("answers '' for a nix that fails or cannot be started", async () => {
    expect(await detectNixVersion(commands(['nix']), answering({ exitCode: 1, stderr: 'nix: broken\n' }).exec)).toBe('');
    expect(await detectNixVersion(commands(['nix']), answering(new Error('spawn nix ENOENT')).exec)).toBe('');
  });
});
