// fleet's own remote scripts, run by this machine's real sh with stand-ins for the programs they call.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

/**
 * The watchdog's own loop (the script ARM_WATCHDOG_SCRIPT detaches) as the arming script's shell
 * reads it — its `watch='…'` assignment, run by sh — with its /run/fleet moved into the test's directory.
 */
function watchdogLoop(runDir: string): string {
  const start = ARM_WATCHDOG_SCRIPT.indexOf("watch='");
  const last = "rm -f /run/fleet/watchdog-$id.pid'\n";
  const assignment = ARM_WATCHDOG_SCRIPT.slice(start, ARM_WATCHDOG_SCRIPT.indexOf(last, start) + last.length);
  const read = spawnSync('sh', ['-c', `${assignment}printf '%s' "$watch"`], { encoding: 'utf8' });
  expect(read.status, read.stderr).toBe(0);
  // A quote inside would have ended the word early: the shell's value is the text between the quotes.
  expect(read.stdout).toBe(assignment.slice("watch='".length, -2));
  return read.stdout.replaceAll('/run/fleet', runDir);
}

describe('the rollback watchdog’s clock', () => {
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  /** Starts the watchdog for deploy id `id`, `timeout` seconds, with a `date` that jumps ahead 1,000 s after its first answer. */
  function startWatchdog(runDir: string, timeout: number) {
    const previous = join(dir, 'previous');
    mkdirSync(join(previous, 'bin'), { recursive: true });
    stub(join(previous, 'bin', 'switch-to-configuration'), `echo "rollback $*" >> "${log}"`);
    // A time daemon stepping the wall clock while the new system starts.
    stub(join(bin, 'date'), `if [ -e "${dir}/stepped" ]; then echo 5000; else : > "${dir}/stepped"; echo 1000; fi`);
    return spawn('sh', ['-c', watchdogLoop(runDir), 'fleet-watchdog', 'feed', String(timeout), 'test', previous, ''], {
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
      stdio: 'ignore',
    });
  }

  it('is monotonic: a wall clock stepped 4,000 s ahead does not fire it, and a confirmation ends it', async () => {
    const runDir = join(dir, 'run');
    mkdirSync(runDir);
    const watchdog = startWatchdog(runDir, 30);
    const exited = new Promise<number | null>((resolve) => watchdog.on('exit', resolve));
    await sleep(700);
    expect(readFileSync(log, 'utf8')).toBe('');
    writeFileSync(join(runDir, 'confirm-feed'), '');
    watchdog.kill('SIGUSR1');
    expect(await exited).toBe(0);
    expect(readFileSync(log, 'utf8')).toBe('');
    expect(existsSync(join(runDir, 'rolled-back-feed'))).toBe(false);
  });

  it('still fires once its own timeout has passed without a confirmation', async () => {
    const runDir = join(dir, 'run');
    mkdirSync(runDir);
    const watchdog = startWatchdog(runDir, 1);
    const exited = new Promise<number | null>((resolve) => watchdog.on('exit', resolve));
    expect(await exited).toBe(0);
    expect(readFileSync(log, 'utf8')).toBe('rollback test\n');
    expect(readFileSync(join(runDir, 'rolled-back-feed'), 'utf8').trim()).toBe(join(dir, 'previous'));
  }, 10_000);
});
