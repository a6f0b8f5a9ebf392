// Telling nixos-rebuild-ng from the bash nixos-rebuild by its answer to a bare `--store-path`.
import { describe, expect, it } from 'vitest';
import { detectRebuildFlavour } from '../../../src/cli/context.js';
import type { Exec, ExecRequest } from '../../../src/exec/index.js';

const commands = { nix: ['nix'], nixosRebuild: ['nixos-rebuild'], nixosAnywhere: ['nixos-anywhere'], nixosInstall: ['nixos-install'] };

function answering(exitCode: number, stderr: string, seen: ExecRequest[] = []): Exec {
  return async (request) => {
    seen.push(request);
    return { exitCode, signal: null, stdout: '', stderr, timedOut: false };
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
  ] as const)('%s → %s', async (_what, exitCode, stderr, flavour) => {
    expect(await detectRebuildFlavour(commands, answering(exitCode, stderr))).toBe(flavour);
  });

  it.each([
    ['no nixos-rebuild at all', 127, 'nixos-rebuild: spawn nixos-rebuild ENOENT\n', /exit 127: nixos-rebuild: spawn nixos-rebuild ENOENT/],
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
