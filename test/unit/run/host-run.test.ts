// The executor over a fake process port: each way a host's sequence can end (changed, unchanged,
// failed, rolled back, unreachable, skipped on interrupt), and which commands ran for it.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HostSpec, Inventory } from '../../../src/manifest/inventory.js';
import { buildPlan, type PlanOptions, type RebuildFlavour } from '../../../src/plan/index.js';
import { runPlan, type AskConfirm, type GateArrival, type HostOutcome, type RunEvent } from '../../../src/run/index.js';
import { host, inventory, planOptions } from '../plan/inventory-fixture.js';
import { CONNECTION_REFUSED, fakeExec, probeAnswer, type CommandKind, type Facts, type Reply, type Responder } from './fake-exec.js';

const OLD = '/nix/store/old';
/** What the target runs before the deploy: the previous system, without the new closure. */
const BEFORE: Facts = { current: OLD, profile: OLD, generation: 3, closure: 'absent' };

let dir: string;
/** The built system: a real directory, since the build stage checks that outputs exist. */
let toplevel: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fleet-hr-'));
  toplevel = join(dir, 'system');
  mkdirSync(toplevel);
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** The lock session's answer: `locked`, then the probe's facts (and it stays open). */
function locked(facts: Facts): Responder {
  return () => ({ stdout: `locked\n${probeAnswer(facts)}` });
}

/** The confirm script's answer over the fresh connection: `confirmed`, then the probe's facts. */
function confirmed(facts: Facts = { current: toplevel, profile: toplevel, generation: 4 }): Responder {
  return () => ({ stdout: `confirmed\n${probeAnswer(facts)}` });
}

interface Setup {
  flavour?: RebuildFlavour;
  /** What the held lock session answers to `?<toplevel>`. */
  closureOnTarget?: (storePath: string) => 'present' | 'absent';
  historyOnTarget?: (file: string, record: string) => string | null;
  spec?: Partial<HostSpec>;
  inventory?: Partial<Inventory>;
  options?: Partial<PlanOptions>;
  outputs?: { toplevel: string; diskoScript?: string };
  respond: Partial<Record<CommandKind, Responder>>;
  controller?: AbortController;
  confirmBootstrap?: (host: string, target: string) => Promise<boolean>;
  confirmApply?: AskConfirm;
  clock?: ReturnType<typeof fakeClock>;
}

/** A fake clock: sleeping moves time on at once. */
function fakeClock() {
  let time = Date.UTC(2025, 0, 1, 12, 0, 0);
  return {
    now: () => time,
    sleep: async (ms: number) => {
      time += ms;
    },
  };
}

async function apply(setup: Setup) {
  const paths = {
    stateDir: join(dir, 'state'),
    knownHosts: join(dir, 'run', 'known_hosts'),
    tofuKnownHosts: join(dir, 'state', 'known_hosts.tofu'),
    runtimeDir: join(dir, 'run'),
  };
  const plan = buildPlan(
    inventory([host('web-1', setup.spec)], setup.inventory),
    planOptions({ rebuildFlavour: setup.flavour ?? 'bash', paths, ...setup.options }),
  );
  const fake = fakeExec({
    outputs: { 'web-1': setup.outputs ?? { toplevel } },
    respond: setup.respond,
    ...(setup.closureOnTarget ? { closureOnTarget: setup.closureOnTarget } : {}),
    ...(setup.historyOnTarget ? { historyOnTarget: setup.historyOnTarget } : {}),
  });
  const clock = setup.clock ?? fakeClock();
  const events: RunEvent[] = [];
  const controller = setup.controller ?? new AbortController();
  const result = await runPlan(plan, {
    exec: fake.exec,
    reporter: { emit: (event) => events.push(event), close: async () => undefined },
    signal: controller.signal,
    now: clock.now,
    sleep: clock.sleep,
    confirmBootstrap: setup.confirmBootstrap,
    confirmApply: setup.confirmApply,
  });
  expect(result.outcomes).toHaveLength(1);
  const outcome = result.outcomes[0] as HostOutcome;
  return { outcome, fake, events, clock, result };
}

describe.each(['bash', 'ng'] as const)('runPlan with the %s nixos-rebuild flavour', (flavour) => {
  // The bash flavour's activation is fleet's own script on the target, which arms the watchdog in
  // the same call; nixos-rebuild-ng activates from here, after a call that arms it.
  const armKind: CommandKind = flavour === 'bash' ? 'armed-activate' : 'arm';
  const activateKind: CommandKind = flavour === 'bash' ? 'armed-activate' : 'activate';
  const activation: CommandKind[] = flavour === 'bash' ? ['armed-activate'] : ['arm', 'activate'];
  /** An activation's answer: in the bash flavour's one call, the arming's answer comes first. */
  const activationReply = (reply: Reply): Reply => (flavour === 'bash' ? { ...reply, stdout: `armed=3\nprevious=${OLD}\n${reply.stdout ?? ''}` } : reply);

  it('changed: copies, arms, activates, then confirms over one fresh connection', async () => {
    const { outcome, fake } = await apply({ flavour, respond: { lock: locked(BEFORE), confirm: confirmed() } });

    expect(outcome).toMatchObject({ kind: 'changed', step: 'verify', reason: 'deployed switch', storePath: toplevel });
    expect(fake.kinds()).toEqual(['eval', 'lock', 'build', 'copy', ...activation, 'confirm', 'control']);
    // The only brand-new connection is the confirmation after activation.
    const activatedAt = fake.kinds().indexOf(activateKind);
    expect(fake.calls.filter((c) => c.fresh).map((c) => c.kind)).toEqual(['confirm']);
    expect(fake.calls.slice(activatedAt + 1).filter((c) => c.fresh)).toHaveLength(1);
    expect(fake.of('copy')[0]?.argv).toContain(toplevel);
    expect(outcome.steps.map((s) => [s.step, s.status])).toEqual([
      ['probe', 'done'],
      ['push-keys', 'skipped'],
      ['bootstrap', 'skipped'],
      ['deploy', 'done'],
      ['verify', 'done'],
    ]);
  });

  it('changed: no connection names a key exchange or asks ssh -G; the manifest’s own KexAlgorithms is passed as it is', async () => {
    const algorithm = /^(KexAlgorithms|Ciphers|MACs|HostKeyAlgorithms)=/i;
    const words = (call: { argv: readonly string[]; env?: Readonly<Record<string, string>> }) => [...call.argv, ...Object.values(call.env ?? {}).flatMap((v) => v.split(' '))];
    const plain = await apply({ flavour, respond: { lock: locked(BEFORE), confirm: confirmed() } });
    expect(plain.outcome.kind).toBe('changed');
    expect(plain.fake.of('config')).toEqual([]);
    expect(plain.fake.calls.filter((c) => words(c).some((w) => algorithm.test(w)))).toEqual([]);
    expect(plain.fake.of('confirm')[0]?.argv.slice(0, 3)).toEqual(['ssh', '-o', 'ControlMaster=no']);

    const keys = { push: 'bootstrap' as const, hostKeyFile: join(dir, 'key'), hostKeySearch: [], generate: false, agenixKeyName: 'global_ed25519', destination: '/etc/ssh' };
    const chosen = await apply({ flavour, spec: { keys }, inventory: { sshOptions: ['KexAlgorithms=sntrup761x25519-sha512@openssh.com'] }, respond: { lock: locked(BEFORE), confirm: confirmed() } });
    expect(chosen.outcome.kind).toBe('changed');
    expect(chosen.fake.of('config')).toEqual([]);
    const sshCalls = chosen.fake.calls.filter((c) => c.argv[0] === 'ssh' || c.env?.NIX_SSHOPTS !== undefined);
    expect(sshCalls.map((c) => c.kind)).toEqual(expect.arrayContaining(['lock', 'copy', 'confirm']));
    for (const call of sshCalls) expect(words(call).filter((w) => algorithm.test(w))).toEqual(['KexAlgorithms=sntrup761x25519-sha512@openssh.com']);
  });

  it('changed: the verified deploy is appended to the host history, with who, what and which generation', async () => {
    const provenance = { operator: 'octocat', ci: { system: 'github-actions', actor: 'octocat', runUrl: 'https://github.com/o/r/actions/runs/9' }, revision: 'abc1234-dirty', fleetVersion: '0.1.0' };
    const { outcome, fake } = await apply({ flavour, options: { provenance }, respond: { lock: locked(BEFORE), confirm: confirmed() } });

    expect(outcome.history).toMatchObject({ written: true });
    // No session of its own: the held lock session appends it (`!<file>`, then the record, on its stdin).
    expect(fake.of('history')).toEqual([]);
    const appended = fake.of('lock')[0]?.appended ?? [];
    expect(appended.map((a) => a.file)).toEqual(['/nix/var/fleet/history.jsonl']);
    const record = JSON.parse(appended[0]!.record) as Record<string, unknown>;
    expect(record).toEqual({
      recordVersion: 1,
      time: '2025-01-01T12:00:00.000Z',
      host: 'web-1',
      action: 'deploy',
      mode: 'switch',
      system: toplevel,
      generation: 4,
      outcome: 'verified',
      ...provenance,
    });
  });

  it('changed, with a warning: a history that cannot be written never fails a good deploy', async () => {
    const { outcome } = await apply({
      flavour,
      respond: { lock: locked(BEFORE), confirm: confirmed() },
      historyOnTarget: () => 'mkdir: cannot create directory: Read-only file system',
    });

    expect(outcome).toMatchObject({ kind: 'changed', step: 'verify', reason: 'deployed switch (deploy history not written: mkdir: cannot create directory: Read-only file system)' });
    expect(outcome.history).toEqual({ written: false, reason: 'mkdir: cannot create directory: Read-only file system' });
  });

  it('changed: the closure the probe found on the target is not copied again', async () => {
    const { outcome, fake } = await apply({ flavour, respond: { lock: locked({ ...BEFORE, closure: 'present' }), confirm: confirmed() } });

    expect(outcome).toMatchObject({ kind: 'changed', step: 'verify', reason: 'deployed switch' });
    expect(fake.kinds()).toEqual(['eval', 'lock', 'build', ...activation, 'confirm', 'control']);
  });

  it('the lock session starts with the run, while the evaluation runs, and is asked over its stdin whether the closure is there', async () => {
    // As the real lock script answers an early session: no closure line in the probe.
    const { closure: _unknown, ...early } = BEFORE;
    const asked: string[] = [];
    const there = await apply({ flavour, respond: { lock: locked(early), confirm: confirmed() }, closureOnTarget: (path) => (asked.push(path), 'present') });
    expect(there.outcome).toMatchObject({ kind: 'changed', step: 'verify' });
    expect(asked).toEqual([toplevel]);
    expect(there.fake.kinds().slice(0, 3)).toEqual(['eval', 'lock', 'build']);
    expect(there.fake.kinds()).not.toContain('copy');
    expect(there.fake.kinds()).not.toContain('open');

    const missing = await apply({ flavour, respond: { lock: locked(early), confirm: confirmed() }, closureOnTarget: () => 'absent' });
    expect(missing.outcome).toMatchObject({ kind: 'changed', step: 'verify' });
    expect(missing.fake.of('copy')).toHaveLength(1);
  });

  it('activates the prebuilt system the flavour’s way', async () => {
    const { fake } = await apply({ flavour, respond: { lock: locked(BEFORE), confirm: confirmed() } });

    const [activate] = fake.of(activateKind);
    const rebuilds = fake.calls.filter((c) => c.argv[0] === 'nixos-rebuild');
    if (flavour === 'bash') {
      expect(rebuilds).toEqual([]);
      expect(activate?.argv[0]).toBe('ssh');
      // sh -c <armed-activate script> fleet-armed-activate <arm script> <deploy id> 90 <toplevel> switch, quoted once.
      const line = activate?.argv.slice(activate.argv.indexOf('--') + 2).join(' ') ?? '';
      expect(line).toMatch(/ fleet-armed-activate 'set -eu\n/);
      expect(line).toMatch(new RegExp(` [0-9a-f]{16} 90 ${toplevel} switch$`));
    } else {
      expect(rebuilds).toHaveLength(1);
      const argv = activate?.argv ?? [];
      expect(argv[0]).toBe('nixos-rebuild');
      expect(argv[1]).toBe('switch');
      expect(argv[argv.indexOf('--store-path') + 1]).toBe(toplevel);
      expect(argv[argv.indexOf('--target-host') + 1]).toBe('root@web-1.example.org');
    }
  });

  it('unchanged: the target already runs the built system; nothing is copied, armed or activated, no fresh connection', async () => {
    const { outcome, fake } = await apply({
      flavour,
      respond: { lock: locked({ current: toplevel, profile: toplevel, generation: 4, closure: 'present' }) },
    });

    expect(outcome).toMatchObject({ kind: 'unchanged', step: 'verify', reason: 'already up to date' });
    expect(fake.kinds()).toEqual(['eval', 'lock', 'build', 'control']);
    expect(fake.calls.some((c) => c.argv.includes('ControlMaster=no'))).toBe(false);
    expect(outcome.steps.find((s) => s.step === 'deploy')).toMatchObject({ status: 'skipped', detail: `already runs ${toplevel}` });
    expect(outcome.steps.find((s) => s.step === 'verify')).toMatchObject({ status: 'skipped', detail: 'nothing was activated' });
  });

  it('unchanged: the host starts once it is evaluated and ends without waiting for its build', async () => {
    /** A build that answers only after many turns of the event loop, long after the host's fake steps. */
    const slowBuild: Responder = async () => {
      for (let i = 0; i < 200; i++) await new Promise((resolve) => setImmediate(resolve));
      return { stdout: '[]' };
    };
    const { outcome, events } = await apply({
      flavour,
      respond: { lock: locked({ current: toplevel, profile: toplevel, generation: 4, closure: 'present' }), build: slowBuild },
    });

    expect(outcome).toMatchObject({ kind: 'unchanged', reason: 'already up to date' });
    const at = (type: RunEvent['type']) => events.findIndex((e) => e.type === type);
    expect(at('host-done')).toBeGreaterThan(-1);
    expect(at('host-done')).toBeLessThan(at('build-done'));
  });

  it('failed at build: a build that fails after the host was locked and probed changes nothing on it', async () => {
    const { outcome, fake } = await apply({
      flavour,
      // Outputs that the build never makes.
      outputs: { toplevel: join(dir, 'never-built') },
      respond: { lock: locked(BEFORE), build: () => ({ exitCode: 1, stderr: 'error: builder for never-built failed with exit code 1\n' }) },
    });

    expect(outcome).toMatchObject({ kind: 'failed', step: 'build', reason: 'build failed: error: builder for never-built failed with exit code 1' });
    expect(fake.kinds()).toEqual(['eval', 'lock', 'build', 'control']);
    expect(outcome.steps.map((s) => [s.step, s.status])).toEqual([
      ['probe', 'done'],
      ['push-keys', 'skipped'],
      ['bootstrap', 'skipped'],
      ['deploy', 'failed'],
    ]);
  });

  it('failed: an activation that exits 1 fails the host at deploy with its output’s tail', async () => {
    const { outcome, fake } = await apply({
      flavour,
      respond: {
        lock: locked(BEFORE),
        [activateKind]: () => activationReply({ exitCode: 1, stdout: 'activating the configuration...\n', stderr: 'error: the activation script failed\n' }),
        confirm: confirmed(),
      },
    });

    expect(outcome.kind).toBe('failed');
    expect(outcome.step).toBe('deploy');
    expect(outcome.reason).toMatch(/failed \(exit 1\)$/);
    // The arming's answer is not the activation's output.
    expect(outcome.tail).toEqual(['activating the configuration...', 'error: the activation script failed']);
    // The watchdog is settled either way: no process is left waiting on the target.
    expect(fake.kinds()).toEqual(['eval', 'lock', 'build', 'copy', ...activation, 'confirm', 'history', 'control']);
    // The history is an audit log: the activation is recorded with how it ended.
    expect(outcome.history).toMatchObject({ written: true, record: { action: 'deploy', outcome: expect.stringMatching(/^failed: .*failed \(exit 1\)$/) } });
  });

  it('failed: a watchdog that cannot be armed fails the host before anything is activated', async () => {
    const { outcome, fake, events } = await apply({
      flavour,
      // The arming script's own failure: it printed no armed= (in the bash flavour's one call, the activation never ran).
      respond: { lock: locked(BEFORE), [armKind]: () => ({ exitCode: 1, stderr: 'the watchdog did not start\n' }) },
    });

    expect(outcome).toMatchObject({ kind: 'failed', step: 'deploy', tail: ['the watchdog did not start'] });
    expect(outcome.reason).toMatch(/^arming the rollback watchdog \(nothing was activated\)/);
    expect(fake.kinds()).toEqual(['eval', 'lock', 'build', 'copy', armKind, 'control']);
    // No watchdog armed: nothing to confirm, no fresh connection, no history.
    expect(fake.calls.filter((c) => c.fresh)).toEqual([]);
    const lines = events.filter((e): e is Extract<RunEvent, { type: 'step-line' }> => e.type === 'step-line').map((e) => e.line);
    expect(lines).not.toContain('rollback watchdog armed (90s)');
  });

  it('changed: the arming is announced once, and its answer stays out of the activation’s output', async () => {
    const { outcome, events } = await apply({
      flavour,
      respond: { lock: locked(BEFORE), [activateKind]: () => activationReply({ stdout: 'activating the configuration...\n' }), confirm: confirmed() },
    });
    expect(outcome).toMatchObject({ kind: 'changed', step: 'verify' });
    // What the screen shows (quiet lines go to the step log only).
    const lines = events.filter((e): e is Extract<RunEvent, { type: 'step-line' }> => e.type === 'step-line' && !e.quiet).map((e) => e.line);
    expect(lines.filter((l) => l === 'rollback watchdog armed (90s)')).toHaveLength(1);
    expect(lines).toContain('activating the configuration...');
    expect(lines.filter((l) => /^(armed|previous)=/.test(l))).toEqual([]);
  });

  it('failed: units that failed (exit 4) fail the host unless tolerateUnitFailures', async () => {
    const respond = {
      lock: locked(BEFORE),
      [activateKind]: () => activationReply({ exitCode: 4, stderr: 'warning: the following units failed: foo.service\n' }),
      confirm: confirmed(),
    };
    const strict = await apply({ flavour, respond });
    expect(strict.outcome).toMatchObject({
      kind: 'failed',
      step: 'deploy',
      reason: 'activated, but some units failed (switch-to-configuration exit 4)',
      tail: ['warning: the following units failed: foo.service'],
    });
    expect(strict.outcome.hint).toMatch(/tolerateUnitFailures/);

    const tolerant = await apply({ flavour, spec: { tolerateUnitFailures: true }, respond });
    expect(tolerant.outcome).toMatchObject({ kind: 'changed', step: 'verify', reason: 'deployed switch (some units failed (tolerated))' });
  });

  it('rolled back: no fresh connection works before the deadline, and afterwards the previous system is live', async () => {
    let armedAt = 0;
    let probedAt = 0;
    const clock = fakeClock();
    const { outcome, fake, events } = await apply({
      flavour,
      clock,
      respond: {
        lock: locked(BEFORE),
        [armKind]: () => {
          armedAt = clock.now();
          return { stdout: `armed=3\nprevious=${OLD}\n` };
        },
        confirm: () => CONNECTION_REFUSED,
        probe: () => {
          probedAt = clock.now();
          return { stdout: probeAnswer({ current: OLD, profile: OLD, generation: 3 }) };
        },
      },
    });

    expect(outcome).toMatchObject({ kind: 'rolled-back', step: 'verify', reason: `lost SSH after activation; the target rolled back to ${OLD}` });
    expect(fake.of('confirm').length).toBeGreaterThan(1);
    expect(fake.of('confirm').every((c) => c.fresh)).toBe(true);
    expect(fake.of('probe')).toHaveLength(1);
    expect(fake.of('probe')[0]?.fresh).toBe(true);
    // The look after the deadline comes after the watchdog's 90 s (rollback.timeout in the fixture).
    expect(probedAt).toBeGreaterThan(armedAt + 90_000);
    const notes = events.filter((e): e is Extract<RunEvent, { type: 'host-note' }> => e.type === 'host-note');
    expect(notes.map((n) => n.message)).toEqual([expect.stringMatching(/^lost SSH after activation \(ssh failed: .*Connection refused\) — target rolls back at \d\d:\d\d:\d\d$/)]);
    // The history records both changes of system: the deploy, and the watchdog's rollback fleet saw.
    const records = fake.of('history').map((h) => JSON.parse(h.argv.at(-1)!.replace(/^'|'$/g, '').replace(/'\\''/g, "'")) as Record<string, unknown>);
    expect(records).toMatchObject([
      { action: 'deploy', system: toplevel, outcome: 'lost ssh: the watchdog rolls back' },
      { action: 'rollback', system: OLD, outcome: expect.stringMatching(/^by the watchdog: /), revision: null },
    ]);
  });

  it('failed: a health check that fails after activation is recorded in the history with its name', async () => {
    const { outcome, fake } = await apply({
      flavour,
      spec: { healthChecks: [{ name: 'http', command: ['curl', '-f', 'http://localhost'], timeout: 5 }] },
      respond: { lock: locked(BEFORE), confirm: confirmed(), health: () => ({ exitCode: 1, stdout: 'curl: (7) refused\n' }) },
    });

    expect(outcome).toMatchObject({ kind: 'failed', step: 'verify', reason: 'health check "http" failed (exit 1); the new system stays live' });
    expect(outcome.history).toMatchObject({ written: true, record: { action: 'deploy', system: toplevel, generation: 4, outcome: "health check 'http' failed" } });
  });

  it('failed: a copy that makes no progress is killed after copyTimeout, tried 3 times, and nothing is activated', async () => {
    const { outcome, fake } = await apply({ flavour, respond: { lock: locked(BEFORE), copy: () => ({ exitCode: null, stalled: true }) } });
    expect(outcome).toMatchObject({ kind: 'failed', step: 'deploy', reason: 'copying the closure failed after 3 attempts: no progress for 300s (copyTimeout), killed' });
    expect(outcome.hint).toMatch(/nothing was activated/);
    expect(fake.kinds().filter((k) => k === 'copy')).toHaveLength(3);
    for (const kind of activation) expect(fake.kinds()).not.toContain(kind);
  });

  it('changed: the copy lets the target substitute; after a failed try, it uploads without substitution', async () => {
    let copies = 0;
    const { outcome, fake } = await apply({ flavour, respond: { lock: locked(BEFORE), copy: () => (++copies === 1 ? { exitCode: 1, stderr: 'error: unexpected end-of-file' } : {}), confirm: confirmed() } });
    expect(outcome.kind).toBe('changed');
    const [first, second] = fake.of('copy');
    expect(first?.argv).toContain('--substitute-on-destination');
    expect(second?.argv).not.toContain('--substitute-on-destination');
  });

  it('changed: the outcome says what the copy sent: the paths nix sent (not those the target substituted), with their NAR sizes from here', async () => {
    const sent = ["copying path '/nix/store/aaaa-own' to 'ssh://root@web-1.example.org'...", "copying path '/nix/store/bbbb-kernel' from 'https://cache.example.org'...", "copying path '/nix/store/cccc-system' to 'ssh://root@web-1.example.org'..."];
    const { outcome, fake } = await apply({
      flavour,
      respond: {
        lock: locked(BEFORE),
        copy: (request) => {
          for (const line of sent) request.onLine?.(line, 'stderr');
          return { stderr: sent.join('\n') };
        },
        'path-info': () => ({ stdout: JSON.stringify([{ path: '/nix/store/aaaa-own', narSize: 1000 }, { path: '/nix/store/cccc-system', narSize: 234 }]) }),
        confirm: confirmed(),
      },
    });
    expect(outcome.uploaded).toEqual({ paths: 2, bytes: 1234 });
    expect(fake.of('path-info')[0]?.argv.slice(-2)).toEqual(['/nix/store/aaaa-own', '/nix/store/cccc-system']);
  });

  it('changed: with cache.push the copy starts once the system is in the cache; a failed push warns and the copy uploads', async () => {
    const cache = { push: 'https://cache.example.org/upload' };
    const { outcome, fake } = await apply({ flavour, inventory: { cache }, respond: { lock: locked(BEFORE), confirm: confirmed() } });
    expect(outcome.kind).toBe('changed');
    const kinds = fake.kinds();
    expect(kinds.indexOf('cache-push')).toBeGreaterThan(kinds.indexOf('build'));
    expect(kinds.indexOf('copy')).toBeGreaterThan(kinds.indexOf('cache-push'));
    expect(fake.of('cache-push')[0]?.argv.slice(-3)).toEqual(['--to', cache.push, toplevel]);

    const failing = await apply({ flavour, inventory: { cache }, respond: { lock: locked(BEFORE), 'cache-push': () => ({ exitCode: 1, stderr: 'error: HTTP error 403\n' }), confirm: confirmed() } });
    expect(failing.outcome.kind).toBe('changed');
    expect(failing.fake.of('copy')).toHaveLength(1);
    const warnings = failing.events.filter((e) => e.type === 'host-note' && e.level === 'warn');
    expect(warnings).toEqual([{ type: 'host-note', host: 'web-1', level: 'warn', message: `pushing to the cache ${cache.push} failed (error: HTTP error 403): what the cache lacks is uploaded from here` }]);
  });

  it('changed: a failed copy is tried again after 250 ms, then 500 ms (no fixed seconds between tries)', async () => {
    const base = fakeClock();
    const slept: number[] = [];
    const clock = { now: base.now, sleep: async (ms: number) => (slept.push(ms), base.sleep(ms)) };
    let copies = 0;
    const { outcome, fake } = await apply({ flavour, clock, respond: { lock: locked(BEFORE), copy: () => (++copies < 3 ? { exitCode: 1, stderr: 'error: unexpected end-of-file' } : {}), confirm: confirmed() } });
    expect(outcome.kind).toBe('changed');
    expect(fake.kinds().filter((k) => k === 'copy')).toHaveLength(3);
    expect(slept.slice(0, 2)).toEqual([250, 500]);
  });

  it('failed: an activation past activationTimeout is stopped, and the watchdog is settled', async () => {
    const { outcome, fake } = await apply({
      flavour,
      spec: {},
      respond: { lock: locked(BEFORE), [activateKind]: () => activationReply({ exitCode: null, timedOut: true }), confirm: confirmed({ current: OLD, profile: OLD, generation: 3 }) },
    });
    expect(outcome).toMatchObject({ kind: 'failed', step: 'deploy' });
    expect(outcome.reason).toMatch(/took longer than 3600s \(activationTimeout\), stopped$/);
    expect(fake.kinds()).toContain('confirm');
  });

  it('unreachable: a lock session that ssh cannot open ends the host at its first step', async () => {
    const { outcome, fake } = await apply({ flavour, respond: { lock: () => CONNECTION_REFUSED } });

    expect(outcome.kind).toBe('unreachable');
    expect(outcome.step).toBe('probe');
    expect(outcome.reason).toBe('cannot reach the host: ssh failed: ssh: connect to host web-1.example.org port 22: Connection refused');
    expect(fake.kinds()).toEqual(['eval', 'lock', 'build', 'control']);
  });

  it('skipped: interrupted before the host started, nothing runs on it', async () => {
    const controller = new AbortController();
    const { outcome, fake, result } = await apply({
      flavour,
      controller,
      respond: {
        build: () => {
          controller.abort();
          return {};
        },
      },
    });

    expect(outcome).toMatchObject({ kind: 'skipped', step: 'build', reason: 'interrupted before it started' });
    // Only its lock session ran (started with the run, released unused), and its connection was retired.
    expect(fake.kinds()).toEqual(['eval', 'lock', 'build', 'control']);
    expect(result.interrupted).toBe(true);
  });

  it('skipped: interrupted after the lock and probe, before anything changed', async () => {
    const controller = new AbortController();
    const { outcome, fake } = await apply({
      flavour,
      controller,
      // A trust-on-first-use host takes its lock when it starts (an early one, while it is evaluated).
      spec: { trustOnFirstUse: true },
      respond: {
        lock: (...args) => {
          controller.abort();
          return locked(BEFORE)(...args);
        },
      },
    });

    // Nothing on the target changed: skipped, ending at the last step done.
    expect(outcome).toMatchObject({ kind: 'skipped', step: 'probe', reason: 'interrupted before this step' });
    expect(fake.kinds()).toEqual(['eval', 'build', 'lock', 'control']);
  });

  it('failed, not skipped: interrupted after activation, before verify', async () => {
    const controller = new AbortController();
    const { outcome, fake } = await apply({
      flavour,
      controller,
      respond: {
        lock: locked(BEFORE),
        [activateKind]: () => {
          controller.abort();
          return activationReply({});
        },
        confirm: confirmed(),
      },
    });

    // The step it ended in is the last one done; verify never started, so nothing confirmed the watchdog.
    expect(outcome).toMatchObject({ kind: 'failed', step: 'deploy', reason: 'interrupted after activation, before it was verified; the watchdog rolls the host back unless it is confirmed' });
    // What was activated is recorded, interrupted as it was.
    expect(fake.kinds()).toEqual(['eval', 'lock', 'build', 'copy', ...activation, 'history', 'control']);
    expect(outcome.history).toMatchObject({ written: true, record: { outcome: 'interrupted: interrupted after activation, before it was verified; the watchdog rolls the host back unless it is confirmed' } });
  });
});

describe('runPlan with a host to bootstrap', () => {
  const bootstrap = { noDiskoDeps: false, noReboot: false, debug: false, phases: ['disko', 'install', 'reboot'], diskEncryptionKeys: [], waitTimeout: 300 };
  /** A bare target (not NixOS, nothing on it) with bootstrap options and a built disko script. */
  function applyBare(setup: Pick<Setup, 'options' | 'confirmBootstrap'>, respond: Partial<Record<CommandKind, Responder>> = {}) {
    const disko = join(dir, 'disko');
    mkdirSync(disko);
    return apply({
      ...setup,
      spec: { bootstrap },
      outputs: { toplevel, diskoScript: disko },
      respond: { lock: locked({ nixos: false, current: '', profile: '', closure: 'absent' }), ...respond },
    });
  }

  it.each([
    ['no prompt', undefined],
    ['a prompt answered no', async () => false],
  ] as const)('without consent (%s) it is skipped at bootstrap and nothing is installed', async (_, confirmBootstrap) => {
    const { outcome, fake } = await applyBare({ options: { allowBootstrap: false }, confirmBootstrap });

    expect(outcome).toMatchObject({
      kind: 'skipped',
      step: 'bootstrap',
      reason: 'bootstrap wipes the disks of root@web-1.example.org: not confirmed (run with --yes to allow it)',
    });
    expect(fake.kinds()).toEqual(['eval', 'lock', 'build', 'control']);
    expect(fake.calls.some((c) => c.argv[0] === 'nixos-anywhere')).toBe(false);
  });
  it('with consent it installs, and records the install by a call of its own: the reboot took the lock session with the installer', async () => {
    const { outcome, fake } = await applyBare(
      { options: { allowBootstrap: true } },
      // The installed system answers the wait for it.
      { probe: () => ({ stdout: probeAnswer({ current: toplevel, profile: toplevel, generation: 1 }) }) },
    );

    expect(outcome).toMatchObject({ kind: 'changed', reason: 'installed' });
    expect(fake.kinds()).toContain('install');
    expect(outcome.history).toMatchObject({ written: true });
    expect(fake.of('history')).toHaveLength(1);
    expect(fake.of('lock')[0]?.appended).toBeUndefined();
  });
});

describe('runPlan as a pipeline: each host starts as soon as its own chunk is built', () => {
  /** Lets pending callbacks run until `done()` holds (false if it never does). */
  async function until(done: () => boolean): Promise<boolean> {
    for (let i = 0; i < 500 && !done(); i++) await new Promise((resolve) => setImmediate(resolve));
    return done();
  }

  async function applyTwo(options: Partial<PlanOptions>, respond: Partial<Record<CommandKind, Responder>>, events: RunEvent[]) {
    const paths = { stateDir: join(dir, 'state'), knownHosts: join(dir, 'run', 'known_hosts'), tofuKnownHosts: join(dir, 'state', 'known_hosts.tofu'), runtimeDir: join(dir, 'run') };
    const plan = buildPlan(inventory([host('web-1'), host('web-2')]), planOptions({ rebuildFlavour: 'bash', paths, ...options }));
    const fake = fakeExec({ outputs: { 'web-1': { toplevel }, 'web-2': { toplevel } }, respond: { lock: locked(BEFORE), confirm: confirmed(), ...respond } });
    const clock = fakeClock();
    const result = await runPlan(plan, {
      exec: fake.exec,
      reporter: { emit: (event) => events.push(event), close: async () => undefined },
      now: clock.now,
      sleep: clock.sleep,
    });
    return { plan, fake, result };
  }

  /** The host a `nix eval` argv evaluates (the fixture's names), or the hosts an ssh argv reaches. */
  const names = (argv: readonly string[]) => ['web-1', 'web-2'].filter((h) => argv.some((a) => a.includes(`"${h}"`) || a.includes(`${h}.example.org`)));

  it("a host of the first chunk activates while the second chunk's evaluator still runs", async () => {
    const events: RunEvent[] = [];
    let web1ActivatedFirst = false;
    const defaultEval = fakeExec({ outputs: { 'web-1': { toplevel }, 'web-2': { toplevel } } });
    const { plan, fake, result } = await applyTwo({ evalLimit: 1, evalJobs: 2 }, {
      eval: async (request, call, calls) => {
        // web-2's evaluation answers only once web-1 has activated (or gives up, and the test fails).
        if (names(call.argv).includes('web-2')) web1ActivatedFirst = await until(() => calls.some((c) => c.kind === 'armed-activate' && names(c.argv).includes('web-1')));
        return { stdout: (await defaultEval.exec(request)).stdout };
      },
    }, events);

    expect(plan.build.chunks).toHaveLength(2);
    expect(web1ActivatedFirst).toBe(true);
    expect(result.outcomes.map((o) => [o.host, o.kind])).toEqual([['web-1', 'changed'], ['web-2', 'changed']]);
    expect(result.evaluations).toBe(2);
    // Both evaluators started before either answered (two evaluators at once).
    const kinds = fake.kinds();
    expect(kinds.slice(0, 4)).toEqual(['eval', 'eval', 'lock', 'lock']);
    // The events say the same: web-1 is built and running its steps before web-2 is built.
    const at = (match: (e: RunEvent) => boolean) => events.findIndex(match);
    expect(at((e) => e.type === 'step-start' && e.host === 'web-1')).toBeLessThan(at((e) => e.type === 'build-done' && e.host === 'web-2'));
    expect(events.filter((e) => e.type === 'build-start').map((e) => (e.type === 'build-start' ? e.chunk : 0))).toEqual([1, 2]);
  });

  it('an evaluation failure lands on its own host only (re-evaluated alone), and the other host deploys', async () => {
    const events: RunEvent[] = [];
    const defaultEval = fakeExec({ outputs: { 'web-1': { toplevel }, 'web-2': { toplevel } } });
    const { result } = await applyTwo({ evalLimit: 2, evalJobs: 2 }, {
      eval: async (request, call) =>
        names(call.argv).includes('web-2') ? { exitCode: 1, stderr: 'error: infinite recursion in web-2\n' } : { stdout: (await defaultEval.exec(request)).stdout },
    }, events);

    expect(result.outcomes.map((o) => [o.host, o.kind, o.step])).toEqual([['web-1', 'changed', 'verify'], ['web-2', 'failed', 'build']]);
    expect(result.outcomes[1]?.reason).toBe('build failed: error: infinite recursion in web-2');
    // The chunk of both, then each alone: three evaluators, as the JSON report counts them.
    expect(result.evaluations).toBe(3);
    expect(events.filter((e) => e.type === 'build-failed').map((e) => (e.type === 'build-failed' ? e.host : ''))).toEqual(['web-2']);
  });

  it('--fail-fast: a host that fails while another chunk still evaluates keeps that chunk\'s hosts from starting', async () => {
    const events: RunEvent[] = [];
    const defaultEval = fakeExec({ outputs: { 'web-1': { toplevel }, 'web-2': { toplevel } } });
    const { result, fake } = await applyTwo({ evalLimit: 1, evalJobs: 2, failFast: true }, {
      eval: async (request, call) => {
        if (names(call.argv).includes('web-2')) await until(() => events.some((e) => e.type === 'host-done' && e.outcome.host === 'web-1'));
        return { stdout: (await defaultEval.exec(request)).stdout };
      },
      'armed-activate': () => ({ exitCode: 1, stdout: 'armed=3\nprevious=/nix/store/old\n', stderr: 'error: the activation script failed\n' }),
    }, events);

    expect(result.outcomes.map((o) => [o.host, o.kind])).toEqual([['web-1', 'failed'], ['web-2', 'skipped']]);
    expect(result.outcomes[1]?.reason).toBe('not started: --fail-fast after web-1 failed');
    // web-2's lock session started with the run and was released unused; nothing else touched it.
    expect(fake.calls.filter((c) => c.argv[0] === 'ssh' && c.kind !== 'config' && names(c.argv).includes('web-2')).map((c) => c.kind)).toEqual(['lock', 'control']);
  });
});

describe('the diff step (fleet diff, apply --diff, --confirm)', () => {
  /** The diff script's answer: the old system with lab-tool 1.0, the built one with lab-tool 1.1. */
  const listing: Responder = (request) => {
    const to = request.argv.at(-1)?.replace(/'/g, '') ?? '';
    return {
      stdout: [`from ${OLD}`, `to ${to}`, 'paths from', OLD, '/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-lab-tool-1.0', 'sizes from', '100', '4000',
        'paths to', to, '/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-lab-tool-1.1', 'sizes to', '100', '12000', 'end ok', ''].join('\n'),
    };
  };

  it('fleet diff copies the closure, lists both closures on the target and ends unchanged with the diff; nothing is armed or activated', async () => {
    const { outcome, fake } = await apply({
      options: { diff: 'report', scope: { steps: ['diff'] } },
      respond: { lock: locked(BEFORE), diff: listing },
    });
    expect(fake.kinds()).toEqual(['eval', 'lock', 'build', 'copy', 'diff', 'control']);
    expect(outcome).toMatchObject({ kind: 'unchanged', step: 'diff', reason: '1 package changed, 1 added, 1 removed; closure +7.8 KiB; nothing activated' });
    expect(outcome.diff).toMatchObject({ kind: 'changes', from: OLD, to: toplevel, changed: [{ name: 'lab-tool', from: ['1.0'], to: ['1.1'], sizeDelta: 8000 }] });
  });

  it('a host that already runs the built system has no changes, and nothing is copied or listed', async () => {
    const { outcome, fake } = await apply({
      options: { diff: 'report', scope: { steps: ['diff'] } },
      respond: { lock: locked({ current: toplevel, profile: toplevel, generation: 4, closure: 'present' }), diff: listing },
    });
    expect(fake.of('diff')).toEqual([]);
    expect(fake.of('copy')).toEqual([]);
    expect(outcome.diff).toEqual({ kind: 'same', system: toplevel });
    expect(outcome.reason).toBe('no changes; nothing activated');
  });

  it('apply --diff shows the diff before deploying, and deploy does not copy again', async () => {
    const { outcome, fake, events } = await apply({ options: { diff: 'show' }, respond: { lock: locked(BEFORE), diff: listing, confirm: confirmed() } });
    expect(fake.kinds()).toEqual(['eval', 'lock', 'build', 'copy', 'diff', 'armed-activate', 'confirm', 'control']);
    const shown = events.findIndex((e) => e.type === 'host-diff');
    const deployStarts = events.findIndex((e) => e.type === 'step-start' && e.step === 'deploy');
    expect(shown).toBeGreaterThan(-1);
    expect(shown).toBeLessThan(deployStarts);
    expect(outcome).toMatchObject({ kind: 'changed', reason: 'deployed switch' });
  });

  it('--confirm answered no: the host ends skipped at diff and nothing is armed or activated', async () => {
    const asked: GateArrival[][] = [];
    const { outcome, fake } = await apply({
      options: { diff: 'confirm' },
      respond: { lock: locked(BEFORE), diff: listing },
      confirmApply: async (arrivals) => {
        asked.push(arrivals);
        return false;
      },
    });
    expect(asked).toHaveLength(1);
    expect(asked[0]?.map((a) => a.host)).toEqual(['web-1']);
    expect(fake.of('arm')).toEqual([]);
    expect(fake.of('armed-activate')).toEqual([]);
    expect(outcome).toMatchObject({ kind: 'skipped', step: 'diff', reason: 'not confirmed at the prompt; nothing was activated' });
  });

  it('--confirm answered yes deploys; with no one to ask, nothing is activated', async () => {
    const yes = await apply({ options: { diff: 'confirm' }, respond: { lock: locked(BEFORE), diff: listing, confirm: confirmed() }, confirmApply: async () => true });
    expect(yes.outcome).toMatchObject({ kind: 'changed' });
    const nobody = await apply({ options: { diff: 'confirm' }, respond: { lock: locked(BEFORE), diff: listing } });
    expect(nobody.fake.of('armed-activate')).toEqual([]);
    expect(nobody.outcome).toMatchObject({ kind: 'skipped', reason: 'not confirmed (no one to ask); nothing was activated' });
  });

  it('a build that fails after the lock ends the host failed at build, nothing copied, listed or asked', async () => {
    let asked = 0;
    const { outcome, fake } = await apply({
      outputs: { toplevel: join(dir, 'never-built') },
      options: { diff: 'confirm' },
      respond: { lock: locked(BEFORE), diff: listing, build: () => ({ exitCode: 1, stderr: 'error: builder for never-built failed with exit code 1\n' }) },
      confirmApply: async () => {
        asked += 1;
        return true;
      },
    });
    expect(outcome).toMatchObject({ kind: 'failed', step: 'build', reason: 'build failed: error: builder for never-built failed with exit code 1' });
    expect(fake.kinds()).toEqual(['eval', 'lock', 'build', 'control']);
    expect(asked).toBe(0);
  });

  it('a failed listing fails the host at diff, before anything changed', async () => {
    const { outcome, fake } = await apply({
      options: { diff: 'show' },
      respond: { lock: locked(BEFORE), diff: () => ({ exitCode: 3, stderr: "error: path '/nix/store/x' is not valid\n" }) },
    });
    expect(fake.of('armed-activate')).toEqual([]);
    expect(outcome).toMatchObject({ kind: 'failed', step: 'diff' });
    expect(outcome.reason).toMatch(/listing the closures on the target failed \(exit 3\)/);
  });
});
