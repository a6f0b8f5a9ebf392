// Telling nixos-rebuild-ng from the bash nixos-rebuild by its answer to a bare `--store-path`.
import { describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chooseRebuildFlavour, detectRebuildFlavour } from '../../../src/cli/context.js';
import { programIsMissing } from '../../../src/exec/index.js';
import type { Exec, ExecRequest } from '../../../src/exec/index.js';

const commands = { nix: ['nix'], nixosRebuild: ['nixos-rebuild'], nixosAnywhere: ['nixos-anywhere'], nixosInstall: ['nixos-install'] };

function answering(exitCode: number, stderr: string, seen: ExecRequest[] = []): Exec {
  return async (request) => {
    seen.push(request);
    // exec/ says typed when it could not start the program at all.
    const notStarted = /ENOENT/.test(stderr) ? { notStarted: 'ENOENT' } : {};
    return { exitCode, signal: null, stdout: '', stderr, timedOut: false, ...notStarted };
  };
}

const USAGE = 'usage: nixos-rebuild [-h] [--verbose] … [--store-path STORE_PATH]\n';

describe('detectRebuildFlavour', () => {
  it('asks `nixos-rebuild --store-path` with no value, never --help', async () => {
    const seen: ExecRequest[] = [];
    await detectRebuildFlavour(commands, answering(2, `${USAGE}nixos-rebuild: error: argument --store-path: expected one argument\n`, seen));
    expect(seen.map((r) => r.argv)).toEqual([['nixos-rebuild', '--store-path']]);
  });

  it.each([
    ['nixos-rebuild-ng with --store-path', 2, `${USAGE}nixos-rebuild: error: argument --store-path: expected one argument\n`, 'ng'],
    ['nixos-rebuild-ng from before --store-path', 2, `${USAGE}nixos-rebuild: error: unrecognized arguments: --store-path\n`, 'bash'],
    ['the bash nixos-rebuild', 1, "/run/current-system/sw/bin/nixos-rebuild: unknown option `--store-path'\n", 'bash'],
    ['no nixos-rebuild at all (exec could not start it)', 127, 'nixos-rebuild: spawn nixos-rebuild ENOENT\n', 'absent'],
  ] as const)('%s → %s', async (_what, exitCode, stderr, flavour) => {
    expect(await detectRebuildFlavour(commands, answering(exitCode, stderr))).toBe(flavour);
  });

  it.each([
    ['a wrapper that exits 127 on its own', 127, 'nixos-rebuild: line 3: nix: command not found\n', /exit 127: nixos-rebuild: line 3: nix: command not found/],
    ['only a man page message', 16, 'No manual entry for nixos-rebuild\n', /exit 16: No manual entry for nixos-rebuild/],
    ['something else', 0, '', /exit 0: no output/],
  ] as const)('refuses to guess on %s', async (_what, exitCode, stderr, message) => {
    const error = await detectRebuildFlavour(commands, answering(exitCode, stderr)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/^cannot tell which nixos-rebuild this is: `nixos-rebuild --store-path` answered /);
    expect((error as Error).message).toMatch(message);
    expect((error as { hint?: string }).hint).toMatch(/rebuildFlavour: ng or bash .* --rebuild-flavour/);
  });
});

describe('chooseRebuildFlavour', () => {
  const bin = mkdtempSync(join(tmpdir(), 'fleet-flavour-'));
  const withTool = mkdtempSync(join(tmpdir(), 'fleet-flavour-tool-'));
  writeFileSync(join(withTool, 'nixos-rebuild'), '#!/bin/sh\nexit 1\n');
  chmodSync(join(withTool, 'nixos-rebuild'), 0o755);
  const never: Exec = async (request) => {
    throw new Error(`nothing should run, ran ${request.argv.join(' ')}`);
  };

  it('auto without nixos-rebuild on PATH: fleet activates itself, asks nothing, and says so', async () => {
    const choice = await chooseRebuildFlavour('auto', 'rebuildFlavour:', true, commands, never, bin);
    expect(choice.flavour).toBe('bash');
    expect(choice.why).toBe('rebuildFlavour: auto, and no nixos-rebuild on PATH: fleet activates the built systems itself (the target sequence of the bash nixos-rebuild)');
  });

  it('auto with a nixos-rebuild on PATH asks it', async () => {
    const seen: ExecRequest[] = [];
    const choice = await chooseRebuildFlavour('auto', 'rebuildFlavour:', true, commands, answering(2, 'error: argument --store-path: expected one argument\n', seen), withTool);
    expect(seen.map((r) => r.argv)).toEqual([['nixos-rebuild', '--store-path']]);
    expect(choice).toEqual({ flavour: 'ng', why: 'rebuildFlavour: auto: nixos-rebuild is nixos-rebuild-ng with --store-path, which activates the built systems' });
  });

  it('an explicit ng without the tool is a usage error with a hint, before any host is touched', async () => {
    const error = await chooseRebuildFlavour('ng', '--rebuild-flavour', true, commands, never, bin).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe('--rebuild-flavour ng, but there is no nixos-rebuild on PATH to activate with');
    expect((error as { hint?: string }).hint).toMatch(/rebuildFlavour: auto or bash/);
  });

  it('ng with the tool, bash, and runs that activate nothing ask nothing', async () => {
    expect((await chooseRebuildFlavour('ng', 'rebuildFlavour:', true, commands, never, withTool)).flavour).toBe('ng');
    expect((await chooseRebuildFlavour('ng', 'rebuildFlavour:', false, commands, never, bin)).flavour).toBe('ng');
    expect((await chooseRebuildFlavour('bash', 'rebuildFlavour:', true, commands, never, bin)).flavour).toBe('bash');
    expect((await chooseRebuildFlavour('auto', 'rebuildFlavour:', false, commands, never, bin)).flavour).toBe('bash');
  });

  it('programIsMissing is sure only when it can be', () => {
    expect(programIsMissing('nixos-rebuild', bin)).toBe(true);
    expect(programIsMissing('nixos-rebuild', `${bin}:${withTool}`)).toBe(false);
    // A relative PATH entry is searched by the child from its own directory: not certain.
    expect(programIsMissing('nixos-rebuild', `${bin}:relative`)).toBe(false);
    expect(programIsMissing(join(withTool, 'nixos-rebuild'), bin)).toBe(false);
    expect(programIsMissing(join(bin, 'nixos-rebuild'), withTool)).toBe(true);
  });
});
