// The operating runner over a fake process port: for each operating command (status, check, exec,
// rollback, reboot, generations) a success, an unreachable host (ssh exit 255), hosts not started
// after an interrupt (nothing run for them), and a failing remote command.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HostSpec } from '../../../src/manifest/inventory.js';
import { OperatingVerbs, secretDigest } from '../../../src/backends/index.js';
import { buildPlan, fleetCheckPlan, fleetRebootPlan, fleetRollbackPlan, resolveArgv, type Plan } from '../../../src/plan/index.js';
import {
  checkHosts,
  execOnHosts,
  generationsOf,
  historyOf,
  NOT_STARTED,
  rebootHosts,
  rollbackHosts,
  statusOfHosts,
  type HostOutcome,
  type OperateEvents,
} from '../../../src/run/index.js';
import { host, inventory, planOptions } from '../plan/inventory-fixture.js';
import { CONNECTION_REFUSED, fakeExec, probeAnswer, type Call, type CommandKind, type Facts, type FakeExec, type Responder } from './fake-exec.js';

let dir: string;
/** What each host should run (the flake's answer): real directories, as built outputs are. */
let wanted: Record<string, string>;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fleet-op-'));
  wanted = {};
  for (const name of ['web-1', 'web-2']) {
    wanted[name] = join(dir, `system-${name}`);
    mkdirSync(wanted[name]!);
  }
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function planOf(spec: Partial<HostSpec> = {}, names = ['web-1', 'web-2']): Plan {
  const paths = { stateDir: join(dir, 'state'), knownHosts: join(dir, 'run', 'known_hosts'), tofuKnownHosts: join(dir, 'state', 'known_hosts.tofu'), runtimeDir: join(dir, 'run') };
  return buildPlan(inventory(names.map((n) => host(n, spec))), planOptions({ rebuildFlavour: 'bash', paths }));
}

/** The host an ssh call goes to (`root@web-1.example.org` → `web-1`). */
function hostOf(call: Call): string {
  const at = call.argv.indexOf('--');
  return (call.argv[at + 1] ?? '').replace(/^.*@/, '').replace(/\.example\.org$/, '');
}

/** A reply per host: web-2 gets `other` when given, everyone else `reply`. */
function perHost(reply: Responder, other?: Responder): Responder {
  return (request, call, calls) => (other && hostOf(call) === 'web-2' ? other(request, call, calls) : reply(request, call, calls));
}

/** The probe's answer with a given boot id. */
function probeWithBoot(facts: Facts, bootId: string): string {
  return probeAnswer(facts).replace('bootId=x', `bootId=${bootId}`);
}

interface Recorded<T> {
  events: OperateEvents<T>;
  started: string[];
  lines: string[];
  done: HostOutcome[];
}

function recorder<T>(): Recorded<T> {
  const r: Recorded<T> = {
    started: [],
    lines: [],
    done: [],
    events: {
      start: (host) => r.started.push(host),
      line: (host, _step, text) => r.lines.push(`${host}: ${text}`),
      done: (_host, _step, outcome) => r.done.push(outcome),
    },
  };
  return r;
}

function setup<T>(respond: Partial<Record<CommandKind, Responder>>, options: { interrupted?: boolean } = {}) {
  const fake: FakeExec = fakeExec({ outputs: Object.fromEntries(Object.entries(wanted).map(([h, toplevel]) => [h, { toplevel }])), respond });
  const controller = new AbortController();
  if (options.interrupted) controller.abort(new Error('interrupted'));
  let time = Date.UTC(2026, 0, 1);
  const record = recorder<T>();
  const deps = {
    exec: fake.exec,
    signal: controller.signal,
    events: record.events,
    now: () => time,
    sleep: async (ms: number) => {
      time += ms;
    },
  };
  /** Calls that went to a host (everything but the local evaluation). */
  const hostCalls = () => fake.calls.filter((c) => c.kind !== 'eval');
  return { fake, deps, record, hostCalls };
}

/** Every host not started ends alike, whatever the command: skipped, interrupted; nothing ran on it. */
function expectNotStarted<T>(record: Recorded<T>, hostCalls: () => Call[]) {
  expect(hostCalls()).toEqual([]);
  expect(record.started).toEqual([]);
  expect(record.done.map((o) => [o.host, o.kind, o.reason]).sort()).toEqual([
    ['web-1', 'skipped', NOT_STARTED],
    ['web-2', 'skipped', NOT_STARTED],
  ]);
}

describe('fleet status', () => {
  const upToDate: Responder = (_r, call) => ({ stdout: probeAnswer({ current: wanted[hostOf(call)], profile: wanted[hostOf(call)], generation: 4 }) });

  it('evaluates the wanted systems and probes every host: up to date', async () => {
    const { deps, record, fake } = setup({ status: upToDate });
    const result = await statusOfHosts(planOf(), deps);
    expect(result.interrupted).toBe(false);
    expect(result.hosts.map((s) => [s.host, s.verdict, s.generation])).toEqual([
      ['web-1', 'up-to-date', 4],
      ['web-2', 'up-to-date', 4],
    ]);
    expect(fake.kinds().sort()).toEqual(['eval', 'status', 'status']);
    // One-shot ssh: no shared master connection outlives the command.
    for (const call of fake.of('status')) expect(call.argv.some((a) => a.startsWith('ControlPath=') && a !== 'ControlPath=none')).toBe(false);
    expect(record.done.map((o) => o.kind)).toEqual(['unchanged', 'unchanged']);
  });

  it('an unreachable host (ssh exit 255) is `unreachable` with ssh\'s reason; the other is probed', async () => {
    const { deps, record } = setup({ status: perHost(upToDate, () => CONNECTION_REFUSED) });
    const result = await statusOfHosts(planOf(), deps);
    expect(result.hosts[0]!.verdict).toBe('up-to-date');
    expect(result.hosts[1]).toMatchObject({ host: 'web-2', verdict: 'unreachable' });
    expect(result.hosts[1]!.detail).toMatch(/refused/);
    expect(record.done.find((o) => o.host === 'web-2')).toMatchObject({ kind: 'failed' });
  });

  it('interrupted before the hosts start: none is probed', async () => {
    const { deps, record, hostCalls } = setup({ status: upToDate }, { interrupted: true });
    const result = await statusOfHosts(planOf(), deps);
    expect(result.interrupted).toBe(true);
    expect(result.hosts.map((s) => [s.verdict, s.detail])).toEqual([
      ['error', 'interrupted'],
      ['error', 'interrupted'],
    ]);
    expectNotStarted(record, hostCalls);
  });

  it('a failing probe is an `error`, not unreachable', async () => {
    const { deps } = setup({ status: perHost(upToDate, () => ({ exitCode: 1, stderr: 'sh: broken\n' })) });
    const result = await statusOfHosts(planOf(), deps);
    expect(result.hosts[1]).toMatchObject({ verdict: 'error', detail: 'probe failed (exit 1)' });
  });
});

describe('fleet check', () => {
  const vitals: Responder = () => ({ stdout: 'load=0.1 0.2 0.3\nuptime=1000\nsystemd=yes\nfailed=\ndf:/=900 1000\ndf:/nix=900 1000\nend=ok\n' });
  const spec: Partial<HostSpec> = { healthChecks: [{ name: 'web', command: ['curl', '-f', 'http://localhost'], timeout: 5 }] };

  it('vitals, then each health check: healthy', async () => {
    const { deps, fake, record } = setup<unknown>({ check: vitals, health: () => ({ stdout: 'ok\n' }) });
    const result = await checkHosts(planOf(spec), deps);
    expect(result.hosts.map((r) => [r.host, r.healthy, r.checks.map((c) => c.ok)])).toEqual([
      ['web-1', true, [true]],
      ['web-2', true, [true]],
    ]);
    expect(fake.kinds()).toEqual(['check', 'check', 'health', 'health']);
    expect(record.done.map((o) => [o.kind, o.reason])).toEqual([
      ['unchanged', 'healthy'],
      ['unchanged', 'healthy'],
    ]);
  });

  it('runs the planned commands: each call is the argv of the plan `fleet plan --for check` shows', async () => {
    const { deps, fake } = setup<unknown>({ check: vitals, health: () => ({ stdout: 'ok\n' }) });
    const plan = planOf(spec, ['web-1']);
    const { check } = fleetCheckPlan(plan.hosts[0]!);
    await checkHosts(plan, deps);
    expect(fake.calls.map((c) => c.argv)).toEqual([resolveArgv(check.vitals.argv, {}), resolveArgv(check.healthChecks[0]!.command.argv, {})]);
    // The vitals over a one-shot connection.
    expect(fake.of('check')[0]!.argv.some((a) => a.startsWith('ControlPath=') && a !== 'ControlPath=none')).toBe(false);
  });

  it('an unreachable host is unhealthy with ssh\'s reason; no health check runs on it', async () => {
    const { deps, fake } = setup({ check: perHost(vitals, () => CONNECTION_REFUSED) });
    const result = await checkHosts(planOf(spec), deps);
    expect(result.hosts[1]).toMatchObject({ healthy: false, checks: [] });
    expect(result.hosts[1]!.problems[0]).toMatch(/^cannot reach the host: .*refused/);
    expect(fake.of('health').map(hostOf)).toEqual(['web-1']);
  });

  it('interrupted before the hosts start: none is checked', async () => {
    const { deps, record, hostCalls } = setup({ check: vitals }, { interrupted: true });
    const result = await checkHosts(planOf(spec), deps);
    expect(result.interrupted).toBe(true);
    expect(result.hosts.map((r) => r.problems)).toEqual([['interrupted before it was checked'], ['interrupted before it was checked']]);
    expectNotStarted(record, hostCalls);
  });

  it('a failing health check makes its host unhealthy', async () => {
    const { deps, record } = setup({ check: vitals, health: perHost(() => ({}), () => ({ exitCode: 7, stderr: 'curl: (7) refused\n' })) });
    const result = await checkHosts(planOf(spec), deps);
    expect(result.hosts[0]!.healthy).toBe(true);
    expect(result.hosts[1]!.healthy).toBe(false);
    expect(result.hosts[1]!.problems).toEqual([expect.stringMatching(/^health check "web" failed: /)]);
    expect(record.done.find((o) => o.host === 'web-2')).toMatchObject({ kind: 'failed', reason: expect.stringMatching(/^UNHEALTHY: health check "web" failed/) });
  });

  it('a failing check script is a problem of its own', async () => {
    const { deps } = setup({ check: () => ({ exitCode: 2 }) });
    const result = await checkHosts(planOf(), deps);
    expect(result.hosts[0]!.problems).toEqual(['the check script failed (exit 2)']);
  });
});

describe('fleet exec', () => {
  const hello: Responder = (_r, call) => ({ stdout: `hello from ${hostOf(call)}\n` });

  it('runs the command on every host over a fresh connection, each line passed on', async () => {
    const { deps, fake, record } = setup({ unknown: hello });
    const result = await execOnHosts(planOf(), ['echo', 'hello'], undefined, deps);
    expect(result.hosts.map((r) => [r.host, r.exitCode, r.output])).toEqual([
      ['web-1', 0, ['hello from web-1']],
      ['web-2', 0, ['hello from web-2']],
    ]);
    expect(fake.calls.every((c) => c.fresh && c.argv.at(-1) === 'echo hello')).toBe(true);
    expect(record.lines.sort()).toEqual(['web-1: hello from web-1', 'web-2: hello from web-2']);
    expect(record.done.map((o) => [o.kind, o.reason])).toEqual([
      ['changed', 'exit 0'],
      ['changed', 'exit 0'],
    ]);
  });

  it('ssh failing (exit 255) is told apart from the command\'s own exit code', async () => {
    const { deps, record } = setup({ unknown: perHost(hello, () => CONNECTION_REFUSED) });
    const result = await execOnHosts(planOf(), ['echo', 'hello'], undefined, deps);
    expect(result.hosts[1]).toMatchObject({ exitCode: 255, sshFailed: true });
    expect(record.done.find((o) => o.host === 'web-2')).toMatchObject({ kind: 'failed', reason: 'ssh failed (255)' });
  });

  it('interrupted before the hosts start: the command runs nowhere', async () => {
    const { deps, record, hostCalls } = setup({ unknown: hello }, { interrupted: true });
    const result = await execOnHosts(planOf(), ['echo', 'hello'], undefined, deps);
    expect(result.hosts.map((r) => [r.exitCode, r.output])).toEqual([
      [null, ['not started: interrupted']],
      [null, ['not started: interrupted']],
    ]);
    expectNotStarted(record, hostCalls);
  });

  it('a failing command ends its host with that exit code', async () => {
    const { deps, record } = setup({ unknown: perHost(hello, () => ({ exitCode: 3, stderr: 'no such file\n' })) });
    const result = await execOnHosts(planOf(), ['cat', '/nope'], 30, deps);
    expect(result.hosts[1]).toMatchObject({ exitCode: 3, sshFailed: false, output: ['no such file'] });
    expect(record.done.find((o) => o.host === 'web-2')).toMatchObject({ kind: 'failed', reason: 'exit 3' });
  });
});

describe('fleet rollback', () => {
  const G3 = '/nix/store/gen-3';
  const G4 = '/nix/store/gen-4';
  const listing = ['list=   3   2026-01-01 10:00:00', 'list=   4   2026-01-02 10:00:00   (current)', `link=3 ${G3}`, `link=4 ${G4}`, 'default=4', `current=${G4}`, `booted=${G4}`, 'end=ok'].join('\n');
  const base: Partial<Record<CommandKind, Responder>> = {
    lock: () => ({ stdout: `locked\n${probeAnswer({ current: G4, profile: G4, generation: 4 })}` }),
    generations: () => ({ stdout: `${listing}\n` }),
    rollback: () => ({ stdout: `system=${G3}\n` }),
    confirm: () => ({ stdout: `confirmed\n${probeAnswer({ current: G3, profile: G3, generation: 3 })}` }),
  };
  const request = { action: 'switch' as const, operator: 'alice@laptop' };

  it('holds the lock, arms the watchdog, switches to the previous generation, confirms it, records it', async () => {
    const { deps, fake, record } = setup<HostOutcome>(base);
    const result = await rollbackHosts(planOf({}, ['web-1']), request, deps);
    expect(result.hosts[0]).toMatchObject({ host: 'web-1', kind: 'changed', summary: 'rolled back to generation 3 (switch)', storePath: G3, history: { written: true } });
    expect(fake.kinds()).toEqual(['lock', 'generations', 'arm', 'rollback', 'confirm', 'history']);
    expect(fake.of('rollback')[0]!.argv.join(' ')).toMatch(/fleet-rollback \/nix\/var\/nix\/profiles\/system 3 switch$/);
    // The history append is the planned one (`fleet plan --for rollback`), its record filled in.
    const planned = fleetRollbackPlan(planOf({}, ['web-1']).hosts[0]!, 'switch', 30, 'alice@laptop');
    if ('never' in planned) throw new Error('web-1 is rolled back');
    const appended = fake.of('history')[0]!.argv;
    expect(appended.slice(0, -1)).toEqual(resolveArgv(planned.history.argv, { historyRecord: '' }).slice(0, -1));
    expect(appended.at(-1)).toMatch(/"action":"rollback"/);
    expect(record.started).toEqual(['web-1']);
    expect(record.done[0]).toMatchObject({ kind: 'changed' });
  });

  it('an unreachable host ends `unreachable` at the lock; nothing else runs on it', async () => {
    const { deps, fake } = setup<HostOutcome>({ ...base, lock: () => CONNECTION_REFUSED });
    const result = await rollbackHosts(planOf({}, ['web-1']), request, deps);
    expect(result.hosts[0]).toMatchObject({ kind: 'unreachable', step: 'lock' });
    expect(fake.kinds()).toEqual(['lock']);
  });

  it('interrupted before the hosts start: none is rolled back', async () => {
    const { deps, record, hostCalls } = setup<HostOutcome>(base, { interrupted: true });
    const result = await rollbackHosts(planOf(), request, deps);
    expect(result.hosts.map((o) => [o.kind, o.reason])).toEqual([
      ['skipped', NOT_STARTED],
      ['skipped', NOT_STARTED],
    ]);
    expectNotStarted(record, hostCalls);
  });

  it('a failing switch-to-configuration fails the host at the deploy step (boot: no watchdog)', async () => {
    const { deps, fake } = setup<HostOutcome>({ ...base, rollback: () => ({ exitCode: 1, stderr: 'activation failed\n' }) });
    const result = await rollbackHosts(planOf({}, ['web-1']), { ...request, action: 'boot' }, deps);
    expect(result.hosts[0]).toMatchObject({ kind: 'failed', step: 'deploy', reason: 'rolling back to generation 3 failed (exit 1)', tail: ['activation failed'] });
    expect(fake.kinds()).toEqual(['lock', 'generations', 'rollback']);
  });

  it('a local target is not rolled back', async () => {
    const { deps, fake } = setup<HostOutcome>(base);
    const result = await rollbackHosts(planOf({ target: { kind: 'local' } }, ['web-1']), request, deps);
    expect(result.hosts[0]).toMatchObject({ kind: 'failed', reason: 'web-1: fleet rollback works over ssh only' });
    expect(fake.calls).toEqual([]);
  });
});

describe('fleet reboot', () => {
  const S = '/nix/store/system';
  /** Before the reboot the boot id is `before`; every probe after the reboot command sees `after`. */
  const probe: Responder = (_r, call, calls) => {
    const rebooted = calls.some((c) => c.kind === 'reboot' && hostOf(c) === hostOf(call));
    return { stdout: probeWithBoot({ current: S, profile: S, generation: 4 }, rebooted ? 'after' : 'before') };
  };

  it('reboots every host and waits for a new boot id on its boot default', async () => {
    const { deps, fake, record } = setup({ probe, reboot: () => CONNECTION_REFUSED });
    const result = await rebootHosts(planOf(), 60, deps);
    expect(result.hosts.map((r) => [r.host, r.kind, r.bootIdBefore, r.bootIdAfter])).toEqual([
      ['web-1', 'rebooted', 'before', 'after'],
      ['web-2', 'rebooted', 'before', 'after'],
    ]);
    expect(result.hosts[0]!.detail).toMatch(new RegExp(`^back after \\d+s on its boot default ${S}$`));
    expect(fake.kinds().sort()).toEqual(['probe', 'probe', 'probe', 'probe', 'reboot', 'reboot']);
    expect(record.lines.some((l) => l.startsWith('web-1: rebooting'))).toBe(true);
    expect(record.done.map((o) => [o.kind, o.summary])).toEqual([
      ['changed', 'rebooted'],
      ['changed', 'rebooted'],
    ]);
  });

  it('an unreachable host is not rebooted', async () => {
    const { deps, fake } = setup({ probe: perHost(probe, () => CONNECTION_REFUSED) });
    const result = await rebootHosts(planOf(), 60, deps);
    expect(result.hosts[1]).toMatchObject({ kind: 'unreachable', detail: expect.stringMatching(/^cannot reach the host: .*refused/) });
    expect(fake.of('reboot').map(hostOf)).toEqual(['web-1']);
  });

  it('interrupted before the hosts start: none is rebooted', async () => {
    const { deps, record, hostCalls } = setup({ probe }, { interrupted: true });
    const result = await rebootHosts(planOf(), 60, deps);
    expect(result.hosts.map((r) => [r.kind, r.detail])).toEqual([
      ['failed', NOT_STARTED],
      ['failed', NOT_STARTED],
    ]);
    expectNotStarted(record, hostCalls);
  });

  it('a failing reboot command fails its host, which is not waited for', async () => {
    const { deps, fake } = setup({ probe, reboot: () => ({ exitCode: 1, stderr: 'Failed to reboot\n' }) });
    const result = await rebootHosts(planOf({}, ['web-1']), 60, deps);
    expect(result.hosts[0]).toMatchObject({ kind: 'failed', detail: 'the reboot command failed (exit 1)', bootIdBefore: 'before' });
    expect(fake.kinds()).toEqual(['probe', 'reboot']);
  });

  it('runs the planned commands: each call is the argv of the plan `fleet plan --for reboot` shows', async () => {
    const { deps, fake } = setup({ probe, reboot: () => CONNECTION_REFUSED });
    const plan = planOf({}, ['web-1']);
    // A wait shorter than ssh's connect timeout (10 s): the polled probe's is cut to the time left.
    const planned = fleetRebootPlan(plan.hosts[0]!, 5);
    if ('never' in planned) throw new Error('web-1 is rebooted');
    const result = await rebootHosts(plan, 5, deps);
    expect(result.hosts[0]!.kind).toBe('rebooted');
    const [before, ...polls] = fake.of('probe');
    expect(before!.argv).toEqual(resolveArgv(planned.reboot.before.argv, {}));
    expect(before!.argv).toContain('ConnectTimeout=10');
    expect(fake.of('reboot').map((c) => c.argv)).toEqual([resolveArgv(planned.reboot.reboot.argv, {})]);
    expect(polls.map((c) => c.argv)).toEqual([resolveArgv(planned.reboot.wait.argv, { connectTimeout: 'ConnectTimeout=5' })]);
  });

  describe('a host with secrets', () => {
    const SECRET_ENV = { FLEET_TEST_API_TOKEN: 'token-1', FLEET_TEST_ADMIN: 'admin-1' };
    const secret = (name: string, env: string, upload: 'before-activation' | 'after-activation') => ({
      name,
      source: { kind: 'env' as const, name: env },
      destination: `/run/keys/${name}`,
      owner: 'root',
      group: 'root',
      mode: '0400',
      upload,
    });
    const secrets = [secret('api-token', 'FLEET_TEST_API_TOKEN', 'before-activation'), secret('grafana-admin', 'FLEET_TEST_ADMIN', 'after-activation')];

    beforeEach(() => Object.assign(process.env, SECRET_ENV));
    afterEach(() => {
      for (const name of Object.keys(SECRET_ENV)) delete process.env[name];
    });

    /** The digest probe: api-token missing (the reboot emptied /run/keys), grafana-admin in place. */
    const probeOrDigests: Responder = (request, call, calls) => {
      const at = call.argv.findIndex((w) => w.endsWith(' --secrets'));
      if (at < 0) return probe(request, call, calls);
      const key = call.argv[at + 1]!;
      return { stdout: probeAnswer({ current: S, profile: S, secrets: ['missing', `${secretDigest(key, Buffer.from('admin-1'))} root root 400`] }) };
    };

    it('once it is back, what is not in place is uploaded again, with the planned commands', async () => {
      const { deps, fake } = setup({ probe: probeOrDigests, reboot: () => CONNECTION_REFUSED });
      const plan = planOf({ secrets }, ['web-1']);
      const planned = fleetRebootPlan(plan.hosts[0]!, 60);
      const restore = 'never' in planned ? undefined : planned.reboot.restoreSecrets;
      if (!restore) throw new Error('web-1 has its secrets restored');
      const result = await rebootHosts(plan, 60, deps);
      expect(result.hosts[0]).toMatchObject({ kind: 'rebooted', detail: expect.stringMatching(/^back after \d+s on its boot default .*; secrets uploaded again: api-token$/) });
      // After the reboot: the digest probe (its key is this restore's own), then only the upload that holds the missing secret.
      expect(fake.kinds().slice(fake.kinds().indexOf('reboot'))).toEqual(['reboot', 'probe', 'probe', 'push-secrets']);
      const digests = fake.of('probe').at(-1)!;
      const key = digests.argv[digests.argv.findIndex((w) => w.endsWith(' --secrets')) + 1]!;
      expect(digests.argv).toEqual(resolveArgv(restore.digests.argv, { digestKey: key }));
      expect(fake.of('push-secrets').map((c) => c.argv)).toEqual([resolveArgv(restore.upload.beforeActivation!.push.argv, {})]);
    });

    it('a failing upload fails the host: rebooted, but its secrets are not back', async () => {
      const { deps } = setup({ probe: probeOrDigests, reboot: () => CONNECTION_REFUSED, 'push-secrets': () => ({ exitCode: 1, stderr: 'No space left on device\n' }) });
      const result = await rebootHosts(planOf({ secrets }, ['web-1']), 60, deps);
      expect(result.hosts[0]).toMatchObject({ kind: 'failed', bootIdAfter: 'after', detail: expect.stringMatching(/, but its secrets are not back: uploading secrets failed \(exit 1\)$/) });
    });

    it('a source that cannot be read: the host is not rebooted', async () => {
      delete process.env.FLEET_TEST_ADMIN;
      const { deps, fake } = setup({ probe: probeOrDigests, reboot: () => CONNECTION_REFUSED });
      const result = await rebootHosts(planOf({ secrets }, ['web-1']), 60, deps);
      expect(result.hosts[0]).toMatchObject({ kind: 'failed', detail: expect.stringMatching(/FLEET_TEST_ADMIN/) });
      expect(fake.of('reboot')).toEqual([]);
    });
  });

  it('the local machine is not rebooted', async () => {
    const { deps, fake } = setup({ probe });
    const result = await rebootHosts(planOf({ target: { kind: 'local' } }, ['web-1']), 60, deps);
    expect(result.hosts[0]).toMatchObject({ kind: 'failed', detail: 'web-1 is the local machine: fleet will not reboot the machine it runs on' });
    expect(fake.calls).toEqual([]);
  });
});

describe('fleet generations', () => {
  const listing = ['list=   3   2026-01-01 10:00:00', `link=3 /nix/store/gen-3`, 'default=3', 'current=/nix/store/gen-3', 'booted=/nix/store/gen-3', 'end=ok'].join('\n');

  it('lists the host\'s generations', async () => {
    const { deps, fake } = setup({ generations: () => ({ stdout: `${listing}\n` }) });
    const answer = await generationsOf(planOf({}, ['web-1']), deps);
    expect(answer).toMatchObject({ list: { generations: [{ generation: 3, storePath: '/nix/store/gen-3', live: true, bootDefault: true }] } });
    expect(fake.kinds()).toEqual(['generations']);
  });

  it('an unreachable host says why', async () => {
    const { deps } = setup({ generations: () => CONNECTION_REFUSED });
    const answer = await generationsOf(planOf({}, ['web-1']), deps);
    expect(answer).toMatchObject({ error: expect.stringMatching(/^cannot reach the host: .*refused/) });
  });

  it('interrupted before it starts: nothing runs', async () => {
    const { deps, fake } = setup({ generations: () => ({ stdout: `${listing}\n` }) }, { interrupted: true });
    expect(await generationsOf(planOf({}, ['web-1']), deps)).toEqual({ error: NOT_STARTED, tail: [] });
    expect(fake.calls).toEqual([]);
  });

  it('a failing listing says so, with its last lines', async () => {
    const { deps } = setup({ generations: () => ({ exitCode: 1, stderr: 'nix-env: permission denied\n' }) });
    expect(await generationsOf(planOf({}, ['web-1']), deps)).toEqual({ error: 'listing generations failed (exit 1)', tail: ['nix-env: permission denied'] });
  });
});

describe('fleet history', () => {
  const record = { recordVersion: 1, time: '2026-01-01T10:00:00.000Z', host: 'web-1', action: 'deploy', mode: 'switch', system: '/nix/store/gen-3', generation: 3, operator: 'alice@laptop', ci: null, revision: null, fleetVersion: '0.1.0' };

  it('reads the host\'s deploy history over a one-shot connection', async () => {
    const { deps, fake } = setup({ history: () => ({ stdout: `record=${JSON.stringify(record)}\nrecord=not json\nend=ok\n` }) });
    const answer = await historyOf(planOf({}, ['web-1']), deps);
    expect(answer).toMatchObject({ history: { records: [{ system: '/nix/store/gen-3', generation: 3 }], unreadable: 1 } });
    expect(fake.kinds()).toEqual(['history']);
    expect(fake.calls[0]!.argv.some((a) => a.startsWith('ControlPath=') && a !== 'ControlPath=none')).toBe(false);
  });

  it('an unreachable host says why; a failing read says so', async () => {
    const unreachable = setup({ history: () => CONNECTION_REFUSED });
    expect(await historyOf(planOf({}, ['web-1']), unreachable.deps)).toMatchObject({ error: expect.stringMatching(/^cannot reach the host: .*refused/) });
    const failing = setup({ history: () => ({ exitCode: 1 }) });
    expect(await historyOf(planOf({}, ['web-1']), failing.deps)).toEqual({ error: 'reading the history failed (exit 1)', tail: [] });
  });

  it('interrupted before it starts: nothing runs', async () => {
    const { deps, fake } = setup({}, { interrupted: true });
    expect(await historyOf(planOf({}, ['web-1']), deps)).toEqual({ error: NOT_STARTED, tail: [] });
    expect(fake.calls).toEqual([]);
  });
});

describe('the operating verbs', () => {
  it('have no deploy verb: one called without a build does not type-check (tsc checks this file)', () => {
    const { fake } = setup({});
    const verbs = new OperatingVerbs(planOf({}, ['web-1']).hosts[0]!, {
      exec: fake.exec,
      signal: new AbortController().signal,
      now: Date.now,
      sleep: async () => undefined,
      onLine: () => undefined,
    });
    // @ts-expect-error copyClosure is a deploy verb: it needs a HostBuild (HostVerbs)
    expect(verbs.copyClosure).toBeUndefined();
    // @ts-expect-error activate is a deploy verb too
    expect(verbs.activate).toBeUndefined();
  });
});
