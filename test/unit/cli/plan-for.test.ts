// `fleet plan --json` through the real command line: `--for reboot` holds each host's reboot with its
// argv (and the secret restore of a host with secrets), `--for rollback` each host's rollback, and
// apply's plan with a rollout that rolls back holds every host's rollback step. Touches no host.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { REBOOT_SCRIPT, ROLLBACK_SCRIPT, type Arg } from '../../../src/plan/index.js';

let dir: string;
let manifest: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fleet-plan-for-'));
  mkdirSync(join(dir, 'flake'));
  manifest = join(dir, 'fleet.yaml');
  writeFileSync(
    manifest,
    [
      'version: 1',
      'flake: ./flake',
      'rebuildFlavour: bash',
      'rollout:',
      '  canary: [web-1]',
      '  onFailure: rollback',
      'hosts:',
      '  web-1:',
      '    target: root@10.0.0.1',
      '    healthChecks:',
      '      - name: http',
      '        command: [curl, -fsS, "http://localhost/"]',
      '        timeout: 5',
      '  db:',
      '    target: deploy@db.example.org:2222',
      '    secrets:',
      '      api-token:',
      '        env: FLEET_PLAN_FOR_TOKEN',
      '  here:',
      '    target: local',
      '',
    ].join('\n'),
  );
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

async function fleet(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  const code = await main([...args, '-f', manifest]);
  return { code, stdout, stderr };
}

interface Command {
  purpose: string;
  argv: Arg[];
}

interface RebootJson {
  kind: string;
  waitSeconds: number;
  before: Command;
  reboot: Command;
  wait: Command;
  restoreSecrets?: { digests: Command; upload: { beforeActivation?: { push: Command } } };
}

/** An argv as one line, refs as `<ref>`. */
const line = (argv: readonly Arg[]) => argv.map((w) => (typeof w === 'string' ? w : `<${w.ref}>`)).join(' ');

describe('fleet plan --for reboot --json', () => {
  it('each host its reboot with argv and bound; the host with secrets their restore; the local machine never', async () => {
    const { code, stdout, stderr } = await fleet('plan', '--for', 'reboot', '--json', '--wait-timeout', '90');
    expect(code, stderr).toBe(0);
    const plan = JSON.parse(stdout) as {
      command: string;
      waitSeconds: number;
      hosts: ({ host: string; never: string } | { host: string; reboot: RebootJson })[];
    };
    expect(plan).toMatchObject({ command: 'reboot', waitSeconds: 90 });
    expect(plan.hosts.map((h) => h.host)).toEqual(['web-1', 'db', 'here']);
    const [web1, db, here] = plan.hosts;
    if (!web1 || !('reboot' in web1) || !db || !('reboot' in db)) throw new Error('web-1 and db are rebooted');
    expect(web1.reboot).toMatchObject({ kind: 'reboot', waitSeconds: 90 });
    expect(line(web1.reboot.before.argv)).toMatch(/^ssh -o ConnectTimeout=10 -o ControlMaster=no -o ControlPath=none .* -p 22 -- root@10\.0\.0\.1 sh -c .* fleet-probe - \/etc\/ssh$/s);
    // The JSON keeps fleet's remote scripts whole.
    expect(web1.reboot.reboot.argv.at(-1)).toBe(`sh -c '${REBOOT_SCRIPT}' fleet-reboot`);
    expect(line(web1.reboot.wait.argv)).toMatch(/^ssh -o <connectTimeout> -o ControlMaster=no -o ControlPath=none /);
    expect(web1.reboot).not.toHaveProperty('restoreSecrets');
    const restore = db.reboot.restoreSecrets!;
    expect(line(restore.digests.argv)).toMatch(/-p 2222 -- deploy@db\.example\.org sudo -n -- sh -c .* --secrets <digestKey> \/run\/keys\/api-token$/s);
    expect(restore.upload.beforeActivation!.push.argv.at(-1)).toMatch(/^sudo -n -- sh -c .* fleet-push-secrets \/run\/keys\/api-token root root 0400$/s);
    expect(here).toEqual({ host: 'here', never: 'here is the local machine: fleet will not reboot the machine it runs on' });
  });

  it('the human form shows the same commands; --wait-timeout without --for reboot is refused', async () => {
    const human = await fleet('plan', '--for', 'reboot', 'web-1');
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/^ {4}reboot: \$ ssh .* root@10\.0\.0\.1 'sh -c <reboot script> fleet-reboot'$/m);
    expect(human.stdout).toMatch(/\(polled until 300s after the reboot; /);
    const refused = await fleet('plan', '--wait-timeout', '60');
    expect(refused.code).toBe(2);
    expect(refused.stderr.split('\n')[0]).toBe('fleet: --wait-timeout belongs to --for reboot (how long each host has to come back)');
  });
});

describe('fleet plan --for check --json', () => {
  it('each host its vitals script and health checks with argv, over one-shot connections', async () => {
    const { code, stdout, stderr } = await fleet('plan', '--for', 'check', '--json');
    expect(code, stderr).toBe(0);
    const plan = JSON.parse(stdout) as { command: string; hosts: { host: string; check: { vitals: Command; healthChecks: { check: { name: string; timeout: number }; command: Command }[] } }[] };
    expect(plan.command).toBe('check');
    expect(plan.hosts.map((h) => [h.host, h.check.healthChecks.map((c) => c.check.name)])).toEqual([
      ['web-1', ['http']],
      ['db', []],
      ['here', []],
    ]);
    const [web1, , here] = plan.hosts;
    expect(line(web1!.check.vitals.argv)).toMatch(/ -- root@10\.0\.0\.1 sh -c .* fleet-check$/s);
    expect(line(web1!.check.healthChecks[0]!.command.argv)).toMatch(/ -- root@10\.0\.0\.1 timeout 5 curl -fsS http:\/\/localhost\/$/);
    for (const command of [web1!.check.vitals, web1!.check.healthChecks[0]!.command]) {
      expect(command.argv.filter((w) => typeof w === 'string' && /^ControlPath=/.test(w) && w !== 'ControlPath=none')).toEqual([]);
    }
    expect(here!.check.vitals.argv.slice(0, 2)).toEqual(['sh', '-c']);
  });
});

describe('fleet plan --json with a rollout that rolls back', () => {
  it('every host of the rollout carries its rollback step with argv, <generation> filled in at run time', async () => {
    const { code, stdout, stderr } = await fleet('plan', '--json', 'web-1', 'db');
    expect(code, stderr).toBe(0);
    const plan = JSON.parse(stdout) as { rollout: { onFailure: string }; hosts: { name: string; rollback?: Record<string, Command> & { action: string } }[] };
    expect(plan.rollout.onFailure).toBe('rollback');
    for (const host of plan.hosts) {
      const rollback = host.rollback!;
      expect(rollback, host.name).toMatchObject({ kind: 'rollback', action: 'switch' });
      expect(rollback.activate!.argv).toContainEqual({ ref: 'generation', remote: true });
      expect(rollback.activate!.argv.join(' ')).toContain(ROLLBACK_SCRIPT.slice(0, 40));
      expect(line(rollback.generations!.argv)).toMatch(/ fleet-generations /);
      expect(rollback.arm?.purpose).toBe('arm watchdog');
    }
    // Without the rollout's rollback, none.
    const stop = JSON.parse((await fleet('plan', '--json', '--on-failure', 'stop')).stdout) as { hosts: { rollback?: unknown }[] };
    expect(stop.hosts.map((h) => h.rollback)).toEqual([undefined, undefined, undefined]);
  });

  it('fleet plan --for rollback --json: each host its lock and rollback', async () => {
    const { code, stdout, stderr } = await fleet('plan', '--for', 'rollback', '--json', 'web-1');
    expect(code, stderr).toBe(0);
    const plan = JSON.parse(stdout) as { command: string; hosts: { host: string; lock: Command; rollback: Record<string, Command> }[] };
    expect(plan.command).toBe('rollback');
    expect(plan.hosts[0]!.lock.purpose).toBe('lock and probe');
    expect(plan.hosts[0]!.rollback.activate!.argv).toContainEqual({ ref: 'generation', remote: true });
  });
});
