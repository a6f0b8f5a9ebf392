// Privilege escalation against real lab hosts: a user whose sudo asks for a password (fleet asks
// once on its terminal and hands it to each privileged command on stdin; the password sampled in
// no argv or environment of any process, and in no file the run leaves), a wrong password failing
// only its host and locking nothing, and a user that escalates with doas.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAB_SUDO_PASSWORD, startLab, type Lab } from './lab.js';
import { FLEET_BIN, hostOf, readReport, runFleetInTerminal, writeLabManifest, type TerminalRun } from './fleet-harness.js';

const T = 240_000;

/**
 * Reads every process's argv and environment now and then while `run` goes, and returns the pids
 * (with their argv) in which `secret` turned up. Every process of the machine: fleet, ssh, the
 * lab hosts' sshd, shells, sudo, the activation.
 */
async function sampleProcesses<R>(secret: string, run: Promise<R>): Promise<{ result: R; samples: number; found: string[] }> {
  const found = new Set<string>();
  let samples = 0;
  let done = false;
  const needle = Buffer.from(secret);
  const look = () => {
    samples++;
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      for (const file of ['cmdline', 'environ']) {
        try {
          const bytes = readFileSync(`/proc/${pid}/${file}`);
          if (bytes.includes(needle)) found.add(`${pid} ${file}: ${readFileSync(`/proc/${pid}/cmdline`).toString().replace(/\0/g, ' ')}`);
        } catch {
          // Gone already, or a kernel thread.
        }
      }
    }
  };
  const sampler = (async () => {
    while (!done) {
      look();
      await new Promise((resolve) => setTimeout(resolve, 40));
    }
  })();
  const result = await run.finally(() => (done = true));
  await sampler;
  return { result, samples, found: [...found] };
}

/** Files under `dirs` that hold `secret` (grep -r, binary files as text). */
function filesHolding(secret: string, dirs: string[]): string[] {
  const existing = dirs.filter((d) => existsSync(d));
  const grep = spawnSync('grep', ['-r', '-l', '-a', '-F', '--', secret, ...existing], { encoding: 'utf8' });
  return grep.stdout.split('\n').filter(Boolean);
}

describe('privilege escalation in the lab', () => {
  let lab: Lab;
  let dir: string;

  beforeAll(async () => {
    lab = await startLab({
      hosts: [
        { name: 'web1', state: 'installed' },
        { name: 'web2', state: 'installed' },
        { name: 'web3', state: 'installed' },
      ],
    });
    lab.env.FLEET_LAB_REBUILD_FLAVOUR = 'ng';
    dir = mkdtempSync(join(tmpdir(), 'fleet-escalation-'));
  });

  afterAll(async () => {
    await lab?.stop();
  });

  const asAdmin = (name: string, extra: Record<string, unknown> = {}) => ({ name, extra: { target: `admin@${lab.host(name).address}`, ...extra } });

  it('the sampler and the file search find the password where it is put (so their empty answers mean something)', async () => {
    const child = spawn('sh', ['-c', 'sleep 1.5', 'planted', LAB_SUDO_PASSWORD], { env: { ...process.env, FLEET_PLANTED: LAB_SUDO_PASSWORD }, stdio: 'ignore' });
    const sampled = await sampleProcesses(LAB_SUDO_PASSWORD, new Promise((resolve) => child.on('close', resolve)));
    expect(sampled.found.some((f) => f.includes(' cmdline: ')), sampled.found.join('\n')).toBe(true);
    expect(sampled.found.some((f) => f.includes(' environ: ')), sampled.found.join('\n')).toBe(true);
    const planting = join(dir, 'planted');
    mkdirSync(planting, { recursive: true });
    writeFileSync(join(planting, 'leak'), `x${LAB_SUDO_PASSWORD}x`);
    expect(filesHolding(LAB_SUDO_PASSWORD, [planting])).toEqual([join(planting, 'leak')]);
    rmSync(planting, { recursive: true });
  }, T);

  it('the lab user admin`s sudo asks for its password; doer has doas and no sudo', async () => {
    const noPassword = await lab.ssh('web1', ['sudo', '-n', 'true'], { user: 'admin' });
    expect(noPassword.exitCode).toBe(1);
    expect(noPassword.stderr).toMatch(/a password is required/);
    const withPassword = await lab.ssh('web1', ['sudo', '-S', '-k', '-p', '', 'id', '-u'], { user: 'admin', input: `${LAB_SUDO_PASSWORD}\n` });
    expect(withPassword.stdout.trim()).toBe('0');
    expect((await lab.ssh('web3', ['doas', '-n', 'id', '-u'], { user: 'doer' })).stdout.trim()).toBe('0');
    expect((await lab.ssh('web3', ['sudo', '-n', 'true'], { user: 'doer' })).exitCode).not.toBe(0);
  }, T);

  it('deploys with password sudo: asked once on the terminal, on every privileged step`s stdin, in no argv, environment or file', async () => {
    const manifest = writeLabManifest(lab, join(dir, 'password'), [
      asAdmin('web1', {
        secrets: { token: { env: 'LAB_TOKEN', destination: '/run/keys/token' } },
        healthChecks: [{ name: 'as-root', command: ['sh', '-c', 'test "$(id -u)" = 0'], timeout: 10 }],
      }),
    ]);
    lab.setRevision(2);
    const wanted = await lab.toplevels(['web1']);
    const before = lab.generations('web1').length;
    const report = join(dir, 'password', 'report.json');
    const trace = join(dir, 'password', 'trace.jsonl');
    lab.env.LAB_TOKEN = 'lab-token-value';
    lab.env.FLEET_TRACE_EXEC = trace;
    let sampled: { result: TerminalRun; samples: number; found: string[] };
    try {
      sampled = await sampleProcesses(
        LAB_SUDO_PASSWORD,
        runFleetInTerminal(lab, ['apply', '-f', manifest, '--ask-sudo-password', '--report', report], { when: /sudo password for admin@/, keys: `${LAB_SUDO_PASSWORD}\r` }),
      );
    } finally {
      delete lab.env.FLEET_TRACE_EXEC;
    }
    const run = sampled.result;
    expect(run.code, run.screen).toBe(0);
    // Asked once, for the host by its user, and never echoed.
    expect(run.screen.match(/sudo password for/g)).toHaveLength(1);
    expect(run.screen).toMatch(/\[fleet\] sudo password for admin@10\.[0-9.]+: /);
    expect(run.raw).not.toContain(LAB_SUDO_PASSWORD);
    expect(lab.currentSystem('web1')).toBe(wanted.web1);
    expect(lab.bootDefault('web1')).toBe(wanted.web1);
    expect(lab.generations('web1').length).toBe(before + 1);
    const web1 = hostOf(readReport(report), 'web1');
    expect(web1.outcome).toBe('changed');
    expect(web1.steps.find((s) => s.step === 'verify')?.detail).toMatch(/watchdog confirmed; health checks passed \(as-root\)/);
    // The secret went up over the same stdin, after the password.
    expect((await lab.ssh('web1', ['cat', '/run/keys/token'])).stdout).toBe('lab-token-value');
    // The deploy history was written through sudo too.
    expect((await lab.ssh('web1', ['tail', '-n', '1', '/nix/var/fleet/history.jsonl'])).stdout).toContain(wanted.web1);
    // Every privileged command fleet ran went through the wrapper: the lock, the activation, the
    // confirmation, the secrets, the health check, each over ssh as admin.
    const traced = readFileSync(trace, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { argv: string[]; env: Record<string, string> });
    // (ssh -G only prints ssh's configuration; -O stops the shared master: neither runs a command.)
    const overSsh = traced.filter((t) => t.argv[0] === 'ssh' && !t.argv.includes('-O') && !t.argv.includes('-G'));
    const remote = overSsh.map((t) => t.argv.slice(t.argv.indexOf('--') + 2).join(' '));
    expect(remote.length).toBeGreaterThanOrEqual(5);
    for (const line of remote) expect(line.startsWith("sh -c 'IFS= read -r pw"), line.slice(0, 200)).toBe(true);
    for (const script of ['fleet-lock', 'fleet-armed-activate', 'fleet-confirm', 'fleet-push-secrets', 'timeout 10 sh -c']) {
      expect(remote.some((line) => line.includes(script)), script).toBe(true);
    }
    // nixos-rebuild-ng would ask on the terminal itself: fleet activated as the bash flavour does.
    expect(lab.toolLog().filter((t) => t.tool === 'nixos-rebuild' && !(t.argv?.length === 1 && t.argv[0] === '--store-path'))).toEqual([]);

    expect(sampled.samples).toBeGreaterThan(10);
    expect(sampled.found).toEqual([]);
    expect(JSON.stringify(traced)).not.toContain(LAB_SUDO_PASSWORD);
    const runtime = readdirSync(tmpdir()).filter((n) => n.startsWith('fleet-') && !n.startsWith('fleet-escalation-')).map((n) => join(tmpdir(), n));
    expect(filesHolding(LAB_SUDO_PASSWORD, [lab.dir, join(dir, 'password'), ...runtime])).toEqual([]);
  }, T);

  it('history and rollback ask for the password too and run through sudo with it', async () => {
    const manifest = writeLabManifest(lab, join(dir, 'operate'), [asAdmin('web1', { askSudoPassword: true })]);
    const generation = lab.generations('web1').find((g) => g.current)!.generation;
    const history = await runFleetInTerminal(lab, ['history', 'web1', '-f', manifest], { when: /sudo password for admin@/, keys: `${LAB_SUDO_PASSWORD}\r` });
    expect(history.code, history.screen).toBe(0);
    expect(history.screen).toMatch(/deploy|switch/);
    const rollback = await runFleetInTerminal(lab, ['rollback', 'web1', '-f', manifest], { when: /sudo password for admin@/, keys: `${LAB_SUDO_PASSWORD}\r` });
    expect(rollback.code, rollback.screen).toBe(0);
    expect(lab.generations('web1').find((g) => g.current)!.generation).toBeLessThan(generation);
  }, T);

  it('push-keys, status, check and reboot run their privileged steps through sudo with the password too', async () => {
    const keyFile = join(dir, 'agenix_key');
    writeFileSync(keyFile, 'AGE-SECRET-KEY-1LABESCALATIONKEY\n', { mode: 0o600 });
    const manifest = writeLabManifest(lab, join(dir, 'steps'), [
      asAdmin('web1', { askSudoPassword: true, keys: { push: 'always', agenixKeyFile: keyFile }, healthChecks: [{ name: 'as-root', command: ['sh', '-c', 'test "$(id -u)" = 0'], timeout: 10 }] }),
    ]);
    const password = { when: /sudo password for admin@/, keys: `${LAB_SUDO_PASSWORD}\r` };
    await lab.ssh('web1', ['rm', '-f', '/etc/ssh/global_ed25519']);
    const keys = await runFleetInTerminal(lab, ['push-keys', 'web1', '-f', manifest, '--plain'], password);
    expect(keys.code, keys.screen).toBe(0);
    expect((await lab.ssh('web1', ['cat', '/etc/ssh/global_ed25519'])).stdout).toBe('AGE-SECRET-KEY-1LABESCALATIONKEY\n');
    const status = await runFleetInTerminal(lab, ['status', 'web1', '-f', manifest, '--plain'], password);
    expect([0, 3], status.screen).toContain(status.code);
    expect(status.screen).toMatch(/web1\s+(up-to-date|outdated)/);
    const check = await runFleetInTerminal(lab, ['check', 'web1', '-f', manifest, '--plain'], password);
    expect(check.code, check.screen).toBe(0);
    expect(check.screen).toMatch(/web1\s+healthy\s.*1\/1 ok/);
    const bootId = lab.bootId('web1');
    const reboot = await runFleetInTerminal(lab, ['reboot', 'web1', '-f', manifest, '--plain'], password);
    expect(reboot.code, reboot.screen).toBe(0);
    expect(lab.bootId('web1')).not.toBe(bootId);
    for (const run of [keys, status, check, reboot]) expect(run.raw).not.toContain(LAB_SUDO_PASSWORD);
  }, T);

  it('a wrong password fails only its host, which it leaves unlocked and unchanged', async () => {
    const manifest = writeLabManifest(lab, join(dir, 'wrong'), [
      asAdmin('web2'),
      { name: 'web3', extra: { target: `doer@${lab.host('web3').address}`, privilegeEscalation: 'doas' } },
    ]);
    lab.setRevision(3);
    const wanted = await lab.toplevels(['web2', 'web3']);
    const before = lab.currentSystem('web2');
    const report = join(dir, 'wrong', 'report.json');
    const run = await runFleetInTerminal(lab, ['apply', '-f', manifest, '--ask-sudo-password', '--plain', '--report', report], [
      { when: /sudo password for admin@/, keys: 'not-the-password\r' },
      // Asked for web2's own, given nothing: it gives up on that host.
      { when: /sudo refused the password for admin@10\.[0-9.]+: type its own \(Enter gives up\): /, keys: '\r' },
    ]);
    expect(run.code, run.screen).toBe(1);
    expect(run.screen.match(/sudo refused the password for/g)).toHaveLength(1);
    const web2 = hostOf(readReport(report), 'web2');
    expect(web2).toMatchObject({ outcome: 'failed', step: 'probe', reason: 'sudo refused the password: nothing was locked or changed' });
    expect(lab.currentSystem('web2')).toBe(before);
    expect((await lab.ssh('web2', ['sh', '-c', 'test ! -e /run/fleet/deploy.lock.info && echo unlocked'])).stdout.trim()).toBe('unlocked');
    // The other host went on: doas needs no password.
    expect(hostOf(readReport(report), 'web3').outcome).toBe('changed');
    expect(lab.currentSystem('web3')).toBe(wanted.web3);
    expect(run.raw).not.toContain('not-the-password');
  }, T);

  it('one password for all hosts, and a host`s own, asked in the live view, where its sudo refuses it', async () => {
    const other = 'web2-own-password-Zt8w';
    const set = async (password: string) => expect((await lab.ssh('web2', ['chpasswd'], { input: `admin:${password}\n` })).exitCode).toBe(0);
    await set(other);
    try {
      const manifest = writeLabManifest(lab, join(dir, 'per-host'), [asAdmin('web1'), asAdmin('web2')]);
      lab.setRevision(5);
      const wanted = await lab.toplevels(['web1', 'web2']);
      const report = join(dir, 'per-host', 'report.json');
      const run = await sampleProcesses(
        other,
        runFleetInTerminal(lab, ['apply', '-f', manifest, '--ask-sudo-password', '--report', report], [
          { when: /sudo password for admin@/, keys: `${LAB_SUDO_PASSWORD}\r` },
          { when: new RegExp(`sudo refused the password for admin@${lab.host('web2').address.replace(/\./g, '\\.')}: type its own`), keys: `${other}\r` },
        ]),
      );
      expect(run.result.code, run.result.screen).toBe(0);
      expect(lab.currentSystem('web1')).toBe(wanted.web1);
      expect(lab.currentSystem('web2')).toBe(wanted.web2);
      expect(readReport(report).hosts.map((h) => [h.host, h.outcome])).toEqual([['web1', 'changed'], ['web2', 'changed']]);
      // web1 took the first one: asked again for web2 only.
      expect(run.result.screen).not.toContain(`refused the password for admin@${lab.host('web1').address}:`);
      expect(run.result.screen).toContain(`refused the password for admin@${lab.host('web2').address}:`);
      for (const secret of [LAB_SUDO_PASSWORD, other]) expect(run.result.raw).not.toContain(secret);
      expect(run.found).toEqual([]);
    } finally {
      await set(LAB_SUDO_PASSWORD);
    }
  }, T);

  it('deploys through doas (fleet activates itself: nixos-rebuild-ng knows only sudo)', async () => {
    const manifest = writeLabManifest(lab, join(dir, 'doas'), [{ name: 'web3', extra: { target: `doer@${lab.host('web3').address}`, privilegeEscalation: 'doas' } }]);
    lab.setRevision(4);
    const wanted = await lab.toplevels(['web3']);
    const report = join(dir, 'doas', 'report.json');
    const run = await runFleetInTerminal(lab, ['apply', '-f', manifest, '--plain', '--report', report]);
    expect(run.code, run.screen).toBe(0);
    expect(lab.currentSystem('web3')).toBe(wanted.web3);
    expect(lab.bootDefault('web3')).toBe(wanted.web3);
    expect(hostOf(readReport(report), 'web3').steps.find((s) => s.step === 'verify')?.detail).toMatch(/watchdog confirmed/);
  }, T);

  it('refuses --ask-sudo-password without a terminal: a usage error, nothing run', async () => {
    const manifest = writeLabManifest(lab, join(dir, 'no-tty'), [asAdmin('web1')]);
    const before = lab.currentSystem('web1');
    // setsid: a new session, without the controlling terminal a developer's shell would lend it.
    const run = spawnSync('setsid', ['-w', process.execPath, FLEET_BIN, 'apply', '-f', manifest, '--ask-sudo-password'], {
      env: { ...process.env, ...lab.env, CI: 'true', NO_COLOR: '1' },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^fleet: --ask-sudo-password \(askSudoPassword\) asks for the sudo password on the terminal, and fleet has no terminal to ask on/m);
    expect(lab.currentSystem('web1')).toBe(before);
  }, T);
});
