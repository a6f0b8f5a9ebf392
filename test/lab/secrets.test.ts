// Secrets at deploy time (issue 13) against real lab hosts: sources from a command, a file and an
// environment variable land with their owner, group and mode; unchanged ones are not uploaded
// again; a failing source fails the host before anything changes; a reboot empties /run/keys,
// `fleet status` says so and push-secrets / reboot bring them back. Throughout, every process's
// argv and environment is sampled, and outputs, reports and /tmp are searched for the values.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from './lab.js';
import { FLEET_BIN, hostOf, readReport, runFleet, writeLabManifest, type FleetRun } from './fleet-harness.js';

const value = (label: string) => `${label}-${randomBytes(12).toString('hex')}`;

/** A process for a failure message: its argv (never its environment) and parent. */
function describeProcess(pid: string): string {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').slice(0, 200);
    const ppid = /^PPid:\s*(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return `${argv}; parent ${ppid}`;
  } catch {
    return 'gone';
  }
}

/** Whether a process runs fleet's own code (its argv is `node …/bin/fleet.js …`). */
function isFleet(pid: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[1] === FLEET_BIN;
  } catch {
    return false;
  }
}

/** Every process's argv and environment, sampled while fleet runs (this machine's /proc sees the lab hosts' too). */
class ProcSampler {
  private timer?: NodeJS.Timeout;
  readonly hits: string[] = [];
  samples = 0;
  /** Fleet's own pid: the one process whose environment holds the env source, as the user gave it. */
  fleetPids = new Set<number>();

  constructor(
    private readonly secrets: () => { text: string; envSource: boolean }[],
  ) {}

  start(): void {
    this.timer = setInterval(() => this.sample(), 40);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  sample(): void {
    this.samples += 1;
    const secrets = this.secrets();
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
      for (const file of ['cmdline', 'environ'] as const) {
        let text: string;
        try {
          text = readFileSync(`/proc/${entry}/${file}`).toString('latin1');
        } catch {
          continue; // gone, or a kernel thread
        }
        for (const secret of secrets) {
          // Fleet itself, and a child of it between fork and exec (a copy of fleet's memory, whose
          // environ is still fleet's own): the env source is there because the user put it there.
          if (file === 'environ' && secret.envSource && (this.fleetPids.has(Number(entry)) || isFleet(entry))) continue;
          if (text.includes(secret.text)) this.hits.push(`${file} of pid ${entry} (${describeProcess(entry)}) holds ${secret.text.slice(0, 8)}…`);
        }
      }
    }
  }
}

describe('secrets at deploy time', () => {
  let lab: Lab;
  let dir: string;
  let manifest: string;
  let reportCount = 0;
  const runs: FleetRun[] = [];
  const reports: string[] = [];
  const trace = () => join(dir, 'exec-trace.jsonl');

  // The values: a command's (a password store), a file's, an environment variable's.
  const values = { command: value('cmd'), file: value('file'), env: value('env'), changed: value('file2') };
  const allValues = () => Object.values(values).flatMap((v) => [v, Buffer.from(v).toString('base64'), Buffer.from(`${v}\n`).toString('base64')]);
  // The env source is in fleet's own environment because the user put it there: only there.
  const sampler = new ProcSampler(() => allValues().map((text) => ({ text, envSource: text === values.env })));

  const writeManifest = (overrides: { s1?: Record<string, unknown>; s2?: Record<string, unknown> } = {}) => {
    manifest = writeLabManifest(
      lab,
      dir,
      [
        { name: 's1', extra: { secrets: { 'env-token': { env: 'FLEET_TEST_ENV_SECRET', destination: '/etc/app/env-token', owner: 'nobody', group: 'nogroup', mode: '0600', upload: 'after-activation' }, ...overrides.s1 } } },
        { name: 's2', extra: { secrets: { ...overrides.s2 } } },
      ],
      {},
    );
    // Secrets shared by both hosts come from defaults (writeLabManifest keeps its own defaults).
    const text = readFileSync(manifest, 'utf8').replace(
      /^defaults:\n/m,
      [
        'defaults:',
        '  secrets:',
        '    grafana-admin:',
        `      command: [${join(dir, 'pass.sh')}, infra/grafana]`,
        '      owner: deploy',
        '      group: deploy',
        '      mode: "0440"',
        '    file-secret:',
        '      file: ./file-source',
        '',
      ].join('\n'),
    );
    writeFileSync(manifest, text);
  };

  const fleet = async (args: string[], env: Record<string, string> = {}) => {
    const report = join(dir, `report-${++reportCount}.json`);
    const withReport = ['apply', 'push-secrets'].includes(args[0]!) ? ['--report', report] : [];
    const run = await runFleet(lab, [args[0]!, '-f', manifest, ...args.slice(1), ...withReport], {
      env: { FLEET_TEST_ENV_SECRET: values.env, FLEET_TRACE_EXEC: trace(), ...env },
      onSpawn: (pid) => sampler.fleetPids.add(pid),
    });
    runs.push(run);
    if (withReport.length > 0) {
      try {
        reports.push(readFileSync(report, 'utf8'));
      } catch {
        // no report: the run's own assertions say why
      }
    }
    return { ...run, report };
  };

  const onTarget = async (host: string, file: string) => {
    const stat = await lab.exec(host, ['stat', '-c', '%U %G %a %Y %i', file]);
    const content = await lab.exec(host, ['cat', file]);
    const [owner, group, mode, mtime, inode] = stat.stdout.trim().split(' ');
    return { exists: stat.exitCode === 0, owner, group, mode, mtime, inode, content: content.stdout };
  };

  beforeAll(async () => {
    lab = await startLab({ hosts: [{ name: 's1', state: 'installed' }, { name: 's2', state: 'installed' }] });
    // Outside /tmp: the test's own sources hold the values, and /tmp is searched for them.
    mkdirSync('/var/tmp', { recursive: true });
    dir = mkdtempSync('/var/tmp/fleet-secrets-');
    mkdirSync(join(dir, 'store', 'infra'), { recursive: true });
    writeFileSync(join(dir, 'store', 'infra', 'grafana'), `${values.command}\n`);
    // A stand-in for `pass show`: prints the entry, counts its calls.
    writeFileSync(join(dir, 'pass.sh'), `#!/bin/sh\necho call >> "${join(dir, 'calls')}"\nexec cat "${join(dir, 'store')}/$1"\n`);
    chmodSync(join(dir, 'pass.sh'), 0o755);
    writeFileSync(join(dir, 'file-source'), values.file);
    writeManifest();
    sampler.start();
  });

  afterAll(async () => {
    sampler.stop();
    await lab?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('fleet plan shows names and destinations, never values', async () => {
    const human = await fleet(['plan']);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/secrets {2}sources read on this machine once per run/);
    expect(human.stdout).toContain(`grafana-admin → /run/keys/grafana-admin  deploy:deploy 0440, before-activation, from command ${join(dir, 'pass.sh')} infra/grafana`);
    expect(human.stdout).toContain('env-token → /etc/app/env-token  nobody:nogroup 0600, after-activation, from env FLEET_TEST_ENV_SECRET');
    const json = await fleet(['plan', '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout).hosts[0].secrets.secrets.map((s: { name: string }) => s.name)).toEqual(['env-token', 'file-secret', 'grafana-admin']);
    // Planning reads no source.
    expect(() => readFileSync(join(dir, 'calls'))).toThrow();
  }, 60_000);

  it('uploads secrets from a command, a file and a variable with their owner, group and mode; each source is read once per run', async () => {
    const activations = lab.activations('s1').length;
    lab.setRevision(2);
    const run = await fleet(['apply']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n')).toHaveLength(1);
    for (const host of ['s1', 's2']) {
      expect(await onTarget(host, '/run/keys/grafana-admin')).toMatchObject({ owner: 'deploy', group: 'deploy', mode: '440', content: `${values.command}\n` });
      expect(await onTarget(host, '/run/keys/file-secret')).toMatchObject({ owner: 'root', group: 'root', mode: '400', content: values.file });
      // No temporary file is left beside them.
      expect((await lab.exec(host, ['ls', '-A', '/run/keys'])).stdout.split('\n').filter(Boolean).sort()).toEqual(['file-secret', 'grafana-admin']);
    }
    expect(await onTarget('s1', '/etc/app/env-token')).toMatchObject({ owner: 'nobody', group: 'nogroup', mode: '600', content: values.env });
    expect((await onTarget('s2', '/etc/app/env-token')).exists).toBe(false);

    const s1 = hostOf(readReport(run.report), 's1');
    expect(s1.outcome).toBe('changed');
    expect(s1.steps.map((s) => `${s.step}:${s.status}`)).toEqual(['probe:done', 'secrets:done', 'push-keys:skipped', 'bootstrap:skipped', 'secrets:done', 'deploy:done', 'verify:done', 'secrets:done']);
    expect(s1.steps[1]!.detail).toBe('read 3 secrets here; not in place: env-token: missing (/etc/app/env-token), file-secret: missing (/run/keys/file-secret), grafana-admin: missing (/run/keys/grafana-admin)');
    expect(s1.steps[4]!.detail).toBe('uploaded file-secret → /run/keys/file-secret, grafana-admin → /run/keys/grafana-admin');
    expect(s1.steps[7]!.detail).toBe('uploaded env-token → /etc/app/env-token');
    // The after-activation secret was written after the activation.
    const activation = lab.activations('s1').slice(activations).at(-1)!;
    const envToken = await onTarget('s1', '/etc/app/env-token');
    expect(Number(envToken.mtime) * 1000).toBeGreaterThanOrEqual(Math.floor(Date.parse(activation.time) / 1000) * 1000);
  }, 120_000);

  it('a second apply uploads nothing (file times unchanged); a changed source is uploaded again', async () => {
    const before = { grafana: await onTarget('s1', '/run/keys/grafana-admin'), file: await onTarget('s1', '/run/keys/file-secret'), env: await onTarget('s1', '/etc/app/env-token') };
    const again = await fleet(['apply']);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    const s1 = hostOf(readReport(again.report), 's1');
    expect(s1.outcome).toBe('unchanged');
    expect(s1.steps.filter((s) => s.step === 'secrets').map((s) => s.detail)).toEqual([
      'read 3 secrets here; all in place on the target',
      'identical secrets already on the target',
      'identical secrets already on the target',
    ]);
    for (const [file, seen] of [['/run/keys/grafana-admin', before.grafana], ['/run/keys/file-secret', before.file], ['/etc/app/env-token', before.env]] as const) {
      const now = await onTarget('s1', file);
      expect({ mtime: now.mtime, inode: now.inode }).toEqual({ mtime: seen.mtime, inode: seen.inode });
    }

    writeFileSync(join(dir, 'file-source'), values.changed);
    const changed = await fleet(['apply']);
    expect(changed.code, changed.stdout + changed.stderr).toBe(0);
    const after = hostOf(readReport(changed.report), 's1');
    expect(after.outcome).toBe('changed');
    expect(after.reason).toBe('secrets uploaded');
    expect(after.steps.find((s) => s.step === 'secrets' && s.detail.startsWith('uploaded'))?.detail).toBe('uploaded file-secret → /run/keys/file-secret');
    expect(await onTarget('s1', '/run/keys/file-secret')).toMatchObject({ content: values.changed, mode: '400' });
    expect((await onTarget('s1', '/run/keys/grafana-admin')).mtime).toBe(before.grafana.mtime);
  }, 120_000);

  it('a failing source fails the host before anything on it changes; a missing owner points to after-activation', async () => {
    writeManifest({ s2: { 'db-password': { command: [join(dir, 'pass.sh'), 'infra/no-such-entry'] } } });
    lab.setRevision(3);
    const activations = lab.activations('s2').length;
    const live = lab.currentSystem('s2');
    const run = await fleet(['apply', 's2']);
    expect(run.code).toBe(1);
    const s2 = hostOf(readReport(run.report), 's2');
    expect(s2).toMatchObject({ outcome: 'failed', step: 'secrets' });
    expect(s2.reason).toMatch(new RegExp(`^secret db-password: command ${join(dir, 'pass.sh')} infra/no-such-entry exited 1: cat: .*no-such-entry: No such file or directory; nothing on the host was changed$`));
    expect(s2.steps.map((s) => s.step)).toEqual(['probe', 'secrets']);
    expect(lab.activations('s2')).toHaveLength(activations);
    expect(lab.currentSystem('s2')).toBe(live);
    expect(run.stderr + run.stdout).not.toMatch(/at .*\.js:\d+/);

    writeManifest({ s2: { grafana: { file: './file-source', owner: 'grafana' } } });
    const owner = await fleet(['apply', 's2']);
    expect(owner.code).toBe(1);
    const failed = hostOf(readReport(owner.report), 's2');
    expect(failed).toMatchObject({ outcome: 'failed', step: 'secrets', reason: 'secret grafana: user grafana does not exist on the target; no secret was written' });
    expect(owner.stdout).toMatch(/set `upload: after-activation` on the secret/);
    expect(lab.activations('s2')).toHaveLength(activations);
    expect((await onTarget('s2', '/run/keys/grafana')).exists).toBe(false);
    writeManifest();
    lab.setRevision(2);
  }, 120_000);

  it('a destination that is a directory, or a link to one, fails the host\'s secrets step and leaves nothing there', async () => {
    expect((await lab.exec('s2', ['sh', '-c', 'mkdir -p /run/labdir && ln -sfn /run/labdir /run/labdir-link'])).exitCode).toBe(0);
    for (const destination of ['/run/labdir', '/run/labdir-link']) {
      writeManifest({ s2: { 'to-dir': { file: './file-source', destination } } });
      const run = await fleet(['push-secrets', 's2']);
      expect(run.code, run.stdout + run.stderr).toBe(1);
      const s2 = hostOf(readReport(run.report), 's2');
      expect(s2).toMatchObject({ outcome: 'failed', step: 'secrets' });
      expect(s2.reason).toBe(`secret to-dir (${destination}): the destination is a directory on the target (or a link to one), not a file; no secret was written`);
      expect(run.stdout).not.toMatch(/wrote \/run\/labdir/);
      expect((await lab.exec('s2', ['ls', '-A', '/run/labdir'])).stdout).toBe('');
      expect((await lab.exec('s2', ['test', '-L', '/run/labdir-link'])).exitCode).toBe(0);
    }
    writeManifest();
  }, 120_000);

  it('an empty secret is refused, naming host and secret, unless it says allowEmpty', async () => {
    writeManifest({ s2: { empty: { command: ['true'] } } });
    const refused = await fleet(['push-secrets', 's2']);
    expect(refused.code, refused.stdout + refused.stderr).toBe(1);
    expect(hostOf(readReport(refused.report), 's2')).toMatchObject({ outcome: 'failed', step: 'secrets', reason: 'secret empty: command true gave an empty secret; nothing on the host was changed' });
    expect(refused.stdout).toMatch(/allowEmpty: true/);
    expect((await onTarget('s2', '/run/keys/empty')).exists).toBe(false);

    writeManifest({ s2: { empty: { command: ['true'], allowEmpty: true } } });
    const allowed = await fleet(['push-secrets', 's2']);
    expect(allowed.code, allowed.stdout + allowed.stderr).toBe(0);
    expect(await onTarget('s2', '/run/keys/empty')).toMatchObject({ exists: true, owner: 'root', mode: '400', content: '' });
    expect((await lab.exec('s2', ['rm', '-f', '/run/keys/empty'])).exitCode).toBe(0);
    writeManifest();
  }, 120_000);

  it('after a reboot empties /run/keys, fleet status says "secrets missing"; push-secrets and fleet reboot restore them', async () => {
    // The lab's own reboot, as a power cut would: /run is a fresh tmpfs.
    await lab.reboot('s1');
    await lab.waitForSsh('s1');
    expect((await onTarget('s1', '/run/keys/grafana-admin')).exists).toBe(false);
    const status = await fleet(['status', 's1']);
    expect(status.code, status.stdout + status.stderr).toBe(3);
    expect(status.stdout).toMatch(/^s1\s+up-to-date, secrets missing\s/m);
    expect(status.stdout).toContain('s1: secrets missing: file-secret: missing (/run/keys/file-secret); grafana-admin: missing (/run/keys/grafana-admin) (fleet push-secrets s1)');
    const json = JSON.parse((await fleet(['status', 's1', '--json'])).stdout);
    expect(json.hosts[0].secrets).toEqual({ state: 'missing', problems: ['file-secret: missing (/run/keys/file-secret)', 'grafana-admin: missing (/run/keys/grafana-admin)'] });

    const evaluations = lab.toolLog().length;
    const push = await fleet(['push-secrets', 's1']);
    expect(push.code, push.stdout + push.stderr).toBe(0);
    // Nothing is built or deployed for it.
    expect(push.stdout).not.toMatch(/\[build\]/);
    expect(lab.toolLog()).toHaveLength(evaluations);
    expect(hostOf(readReport(push.report), 's1').reason).toBe('secrets uploaded');
    expect(push.stdout).toMatch(/^\[s1\] secrets uploaded \(\d/m);
    expect(await onTarget('s1', '/run/keys/grafana-admin')).toMatchObject({ owner: 'deploy', mode: '440', content: `${values.command}\n` });
    const fine = await fleet(['status', 's1']);
    expect(fine.code, fine.stdout).toBe(0);
    expect(fine.stdout).toMatch(/^s1\s+up-to-date\s/m);

    const reboot = await fleet(['reboot', 's2', '--wait-timeout', '60']);
    expect(reboot.code, reboot.stdout + reboot.stderr).toBe(0);
    expect(reboot.stdout).toMatch(/^s2\s+rebooted\s.*; secrets uploaded again: file-secret, grafana-admin$/m);
    expect(await onTarget('s2', '/run/keys/file-secret')).toMatchObject({ owner: 'root', mode: '400', content: values.changed });
  }, 180_000);

  it('no secret value reached any argv, environment, output, report, /tmp file or Nix store', async () => {
    sampler.stop();
    sampler.sample();
    expect(sampler.samples).toBeGreaterThan(50);
    expect(sampler.hits).toEqual([]);
    const haystacks: Record<string, string> = {
      'exec trace (argv + env of every process fleet started)': readFileSync(trace(), 'utf8'),
      stdout: runs.map((r) => r.stdout).join('\n'),
      stderr: runs.map((r) => r.stderr).join('\n'),
      reports: reports.join('\n'),
    };
    expect(haystacks['exec trace (argv + env of every process fleet started)']).toMatch(/fleet-push-secrets/);
    for (const [where, text] of Object.entries(haystacks)) {
      for (const secret of allValues()) expect(text.includes(secret), `a secret in the ${where}`).toBe(false);
    }
    const patterns = Object.values(values).flatMap((v) => ['-e', v]);
    // Every file under /tmp but the lab hosts' own disks and /run (where the secrets belong).
    const tmp = spawnSync('grep', ['-rlF', '--exclude-dir=fleet-lab-*', ...patterns, '/tmp'], { encoding: 'utf8' });
    expect(tmp.stdout, 'a secret in a file under /tmp').toBe('');
    for (const host of ['s1', 's2']) {
      // The hosts' own /tmp (a temporary file of the upload would be there or beside the secret) and stores.
      const inside = await lab.exec(host, ['grep', '-rlF', ...patterns, '/tmp', '/nix/store']);
      expect(inside.stdout, `a secret in ${host}'s /tmp or store`).toBe('');
    }
    const closure = spawnSync('nix-store', ['-qR', ...Object.values(await lab.toplevels(['s1', 's2']))], { encoding: 'utf8', env: { ...process.env, ...lab.env } });
    const local = spawnSync('grep', ['-rlF', ...patterns, ...closure.stdout.split('\n').filter(Boolean)], { encoding: 'utf8' });
    expect(local.stdout, 'a secret in the deployed closures').toBe('');
  }, 120_000);
});
