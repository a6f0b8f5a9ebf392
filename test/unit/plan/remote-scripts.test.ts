// fleet's own remote scripts, run by this machine's real sh with stand-ins for the programs they call.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ARM_WATCHDOG_SCRIPT, ARMED_ACTIVATE_SCRIPT } from '../../../src/plan/index.js';

let dir: string;
let log: string;
let top: string;
let bin: string;

function stub(path: string, body: string): void {
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fleet-scripts-'));
  log = join(dir, 'log');
  writeFileSync(log, '');
  bin = join(dir, 'bin');
  top = join(dir, 'top');
  mkdirSync(bin);
  mkdirSync(join(top, 'bin'), { recursive: true });
  // Each records its call; the activation prints a line and exits 4 (some units failed).
  stub(join(bin, 'nix-env'), `echo "nix-env $*" >> "${log}"`);
  stub(join(bin, 'systemd-run'), `echo "systemd-run $*" >> "${log}"; echo activating; exit 4`);
  stub(join(top, 'bin', 'switch-to-configuration'), `echo "switch-to-configuration $*" >> "${log}"; echo activating; exit 4`);
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

function armedActivate(armScript: string, mode: 'switch' | 'test') {
  return spawnSync('sh', ['-c', ARMED_ACTIVATE_SCRIPT, 'fleet-armed-activate', armScript, '0123abcd', '90', top, mode], {
    encoding: 'utf8',
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, ARM_LOG: log },
  });
}

/** What was activated: switch-to-configuration directly, or under systemd-run where this machine has systemd. */
function activations(): string[] {
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter((l) => /^(switch-to-configuration|systemd-run) /.test(l));
}

describe('ARMED_ACTIVATE_SCRIPT (the bash flavour arms and activates in one call)', () => {
  it('runs the arming script in a shell of its own with the deploy id, the timeout and the mode', () => {
    const run = armedActivate('echo "arm $0 $*" >> "$ARM_LOG"; printf "armed=3\\nprevious=/nix/store/old\\n"', 'test');
    expect(readFileSync(log, 'utf8').split('\n')[0]).toBe('arm fleet-arm 0123abcd 90 test');
    // The arming's answer first, then the activation's own output and status.
    expect(run.stdout).toBe('armed=3\nprevious=/nix/store/old\nactivating\n');
    expect(run.status).toBe(4);
    expect(activations()).toHaveLength(1);
    // test mode: no profile change.
    expect(readFileSync(log, 'utf8')).not.toContain('nix-env');
  });

  it('sets the profile for switch before switch-to-configuration, as nixos-rebuild does', () => {
    const run = armedActivate('printf "armed=3\\nprevious=/nix/store/old\\n"', 'switch');
    expect(run.status).toBe(4);
    const calls = readFileSync(log, 'utf8').split('\n').filter(Boolean);
    expect(calls[0]).toBe(`nix-env -p /nix/var/nix/profiles/system --set ${top}`);
    expect(calls[1]).toMatch(/^(switch-to-configuration switch|systemd-run .* switch)$/);
  });

  it('activates nothing when arming fails, and its own set -e holds', () => {
    // `false` fails the arming script under its set -eu: the line after it never runs.
    const run = armedActivate('set -eu; false; printf "armed=3\\n"', 'switch');
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(readFileSync(log, 'utf8')).toBe('');
  });

  it('with the real arming script on a machine with no live system: refuses, nothing activated', () => {
    // This machine has no /run/current-system: the real script has nothing to roll back to.
    const run = armedActivate(ARM_WATCHDOG_SCRIPT, 'switch');
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('no live system to roll back to');
    expect(run.stdout).not.toContain('armed=');
    expect(activations()).toEqual([]);
  });
});
