// Operating the fleet against real lab hosts: status, check, exec, ssh, generations, rollback, reboot,
// build, push-keys, install — the real CLI, real ssh, real Nix stores.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from './lab.js';
import { FLEET_BIN, readReport, runFleet, runFleetInTerminal, writeLabManifest, type FleetRun } from './fleet-harness.js';

interface StatusJson {
  exitCode: number;
  hosts: { host: string; verdict: string; live: string; bootDefault: string; wanted: string; detail: string }[];
}

/** Runs fleet, calling `onLine` with each stdout line as it arrives. */
function runFleetStreaming(lab: Lab, args: string[], onLine: (line: string) => void, input?: string): Promise<FleetRun & { ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [FLEET_BIN, ...args], {
      env: { ...process.env, ...lab.env, CI: 'true', NO_COLOR: '1' },
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    if (input !== undefined) child.stdin!.end(input);
    let stdout = '';
    let stderr = '';
    let pending = '';
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      pending += d.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) onLine(line);
    });
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

describe('operating the fleet in the lab', () => {
  let lab: Lab;
  let dir: string;
  let manifest: string;
  const fleet = (args: string[]) => runFleet(lab, [args[0]!, '-f', manifest, ...args.slice(1)]);

  beforeAll(async () => {
    lab = await startLab({
      hosts: [
        { name: 'web1', state: 'installed' },
        { name: 'web2', state: 'installed' },
        { name: 'web3', state: 'installed' },
        { name: 'bare', state: 'bare' },
      ],
    });
    dir = mkdtempSync(join(tmpdir(), 'fleet-operate-'));
    const agenix = join(dir, 'agenix_key');
    writeFileSync(agenix, 'AGE-SECRET-KEY-LAB-ONLY\n', { mode: 0o600 });
    manifest = writeLabManifest(
      lab,
      dir,
      [
        { name: 'web1', extra: { tags: ['web'], healthChecks: [{ name: 'marker', command: ['test', '-e', '/tmp/healthy'], timeout: 5 }] } },
        { name: 'web2', extra: { tags: ['web'] } },
        { name: 'web3', extra: { tags: ['web'], keys: { push: 'bootstrap', agenixKeyFile: agenix } } },
        { name: 'bare', bootstrap: true },
      ],
      // Unreachable hosts answer within seconds in the tests.
      { ssh: { options: ['ConnectTimeout=3'] } },
    );
  });

  afterAll(async () => {
    await lab?.stop();
  });

  it('status: every host up to date after an apply (exit 0)', async () => {
    // web1's health check passes for this apply; the check test below removes the marker.
    expect((await lab.ssh('web1', ['touch', '/tmp/healthy'])).exitCode).toBe(0);
    const apply = await fleet(['apply', '@web']);
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
    expect((await lab.ssh('web1', ['rm', '/tmp/healthy'])).exitCode).toBe(0);
    const run = await fleet(['status', '@web']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^HOST\s+STATUS\s+LIVE\s+BOOT DEFAULT\s+WANTED\s+LIVE REVISION\s+BY$/m);
    for (const host of ['web1', 'web2', 'web3']) expect(run.stdout).toMatch(new RegExp(`^${host}\\s+up-to-date\\s`, 'm'));

    // On a terminal: the live view while the hosts are probed (its counts stay), then the same table.
    const tty = await runFleetInTerminal(lab, ['status', '-f', manifest, '@web']);
    expect(tty.code, tty.screen).toBe(0);
    expect(tty.raw).toContain('\u001b[');
    expect(tty.screen).toMatch(/^fleet {2}3\/3 done · 0 failed · 0 running {2}\S+\r?$/m);
    for (const host of ['web1', 'web2', 'web3']) expect(tty.screen).toMatch(new RegExp(`^${host}\\s+up-to-date\\s`, 'm'));
  }, 120_000);

  it('status tells outdated, pending reboot, unreachable and not installed apart', async () => {
    lab.setRevision(2);
    const boot = await fleet(['apply', 'web2', '--boot']);
    expect(boot.code, boot.stdout).toBe(0);
    const wanted = await lab.toplevels(['web1', 'web2']);
    await lab.cutLink('web3');
    try {
      const run = await fleet(['status', '--json']);
      expect(run.code, run.stdout + run.stderr).toBe(1);
      const json = JSON.parse(run.stdout) as StatusJson;
      const verdicts = Object.fromEntries(json.hosts.map((h) => [h.host, h.verdict]));
      expect(verdicts).toEqual({ web1: 'outdated', web2: 'pending-reboot', web3: 'unreachable', bare: 'not-installed' });
      const web2 = json.hosts.find((h) => h.host === 'web2')!;
      expect(web2.bootDefault).toBe(wanted.web2);
      expect(web2.wanted).toBe(wanted.web2);
      expect(web2.live).toBe(lab.currentSystem('web2'));
      expect(json.hosts.find((h) => h.host === 'web1')!.wanted).toBe(wanted.web1);
      expect(json.hosts.find((h) => h.host === 'web3')!.detail).toMatch(/ssh failed|timed out/i);

      // Plain: the same verdicts in words; without the unreachable host the exit code is 3.
      const plain = await fleet(['status', 'web1', 'web2', 'bare']);
      expect(plain.code).toBe(3);
      expect(plain.stdout).toMatch(/^web1\s+outdated\s/m);
      expect(plain.stdout).toMatch(/^web2\s+pending reboot\s/m);
      expect(plain.stdout).toMatch(/^bare\s+not installed\s/m);

      // exec: ssh failure on the cut host is 255, the worst code.
      const exec = await fleet(['exec', 'web1', 'web3', '--', 'true']);
      expect(exec.code).toBe(255);
      expect(exec.stdout).toMatch(/^\[web1\] exit 0$/m);
      expect(exec.stdout).toMatch(/^\[web3\] ssh failed \(255\)$/m);
    } finally {
      await lab.restoreLink('web3');
    }
    await lab.waitForSsh('web3');
  }, 120_000);

  it('exec shows each host\'s output grouped, and exits with the worst code', async () => {
    const script = '. /run/lab/host.env; echo "I am $LAB_HOST"; [ "$LAB_HOST" = web2 ] && exit 3; exit 0';
    const run = await fleet(['exec', '@web', '--', script]);
    expect(run.code, run.stdout + run.stderr).toBe(3);
    for (const host of ['web1', 'web2', 'web3']) expect(run.stdout).toMatch(new RegExp(`^\\[${host}\\] I am ${host}$`, 'm'));
    expect(run.stdout).toMatch(/^\[web2\] exit 3$/m);
    expect(run.stdout).toMatch(/^\[web1\] exit 0$/m);
    // Grouped: a host's output line is directly followed by its status line.
    expect(run.stdout).toMatch(/^\[web2\] I am web2\n\[web2\] exit 3$/m);

    const json = await fleet(['exec', 'web1', 'web2', '--json', '--', script]);
    expect(json.code).toBe(3);
    const report = JSON.parse(json.stdout) as { exitCode: number; hosts: { host: string; exitCode: number; stdout: string }[] };
    expect(report.exitCode).toBe(3);
    expect(report.hosts.map((h) => [h.host, h.exitCode, h.stdout.trim()])).toEqual([
      ['web1', 0, 'I am web1'],
      ['web2', 3, 'I am web2'],
    ]);

    // Several words are an argv, quoted once: hostile strings arrive intact.
    const hostile = ['a b', '$(id)', "it's", '`x`;"q"'];
    const argv = await fleet(['exec', 'web1', '--', 'printf', '%s\\n', ...hostile]);
    expect(argv.code).toBe(0);
    expect(argv.stdout.split('\n').filter((l) => l.startsWith('[web1] ') && !l.endsWith('exit 0'))).toEqual(hostile.map((h) => `[web1] ${h}`));
  }, 60_000);

  it('exec on a terminal: the live view, the failed host kept with its exit code, then the grouped output', async () => {
    const script = '. /run/lab/host.env; echo "tty says $LAB_HOST"; [ "$LAB_HOST" = web2 ] && exit 3; exit 0';
    const run = await runFleetInTerminal(lab, ['exec', '-f', manifest, 'web1', 'web2', '--', script]);
    expect(run.code, run.screen).toBe(3);
    expect(run.raw).toContain('\u001b['); // drawn, not plain lines
    expect(run.screen).toMatch(/^fleet {2}2\/2 done · 1 failed · 0 running {2}\S+\r?$/m);
    expect(run.screen).toMatch(/^✖ web2\s+FAILED at exec: exit 3\r?$/m);
    // After the tree: each host's block, its lines followed by its status.
    expect(run.screen).toMatch(/^\[web1\] tty says web1\r?\n\[web1\] exit 0\r?$/m);
    expect(run.screen).toMatch(/^\[web2\] tty says web2\r?\n\[web2\] exit 3\r?$/m);
    expect(run.screen).toMatch(/1 of 2 host\(s\) exited non-zero: web2 \(3\)/);
  }, 60_000);

  it('ssh runs one command or a shell on stdin, with the exit code of ssh', async () => {
    const one = await fleet(['ssh', 'web1', '--', 'readlink', '-f', '/run/current-system']);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout.trim()).toBe(lab.currentSystem('web1'));
    const failing = await fleet(['ssh', 'web1', '--', 'sh', '-c', 'exit 7']);
    expect(failing.code).toBe(7);
    // No command: a shell whose stdin is fleet's (inherited stdio).
    const shell = await runFleetStreaming(lab, ['ssh', '-f', manifest, 'web2'], () => undefined, '. /run/lab/host.env; echo "shell on $LAB_HOST"; exit 5\n');
    expect(shell.code).toBe(5);
    expect(shell.stdout).toContain('shell on web2');
  }, 60_000);

  it('check reports a failing health check, then a healthy host', async () => {
    const failing = await fleet(['check', 'web1', 'web2']);
    expect(failing.code, failing.stdout + failing.stderr).toBe(1);
    expect(failing.stdout).toMatch(/^HOST\s+HEALTH\s+LOAD\s+UPTIME\s+FAILED UNITS\s+FREE \/\s+FREE \/nix\s+CHECKS$/m);
    expect(failing.stdout).toMatch(/^web1\s+UNHEALTHY\s.*\bn\/a\s.*0\/1 ok$/m);
    expect(failing.stdout).toMatch(/^web2\s+healthy\s/m);
    expect(failing.stdout).toContain('web1: health check "marker" failed: exit 1');

    const made = await lab.ssh('web1', ['touch', '/tmp/healthy']);
    expect(made.exitCode).toBe(0);
    const healthy = await fleet(['check', 'web1', '--json']);
    expect(healthy.code).toBe(0);
    const json = JSON.parse(healthy.stdout) as { hosts: { host: string; healthy: boolean; vitals: { failedUnits?: string[]; disks: unknown[] }; checks: { name: string; ok: boolean }[] }[] };
    expect(json.hosts[0]).toMatchObject({ host: 'web1', healthy: true, checks: [{ name: 'marker', ok: true }] });
    expect(json.hosts[0]!.vitals.failedUnits).toBeUndefined();
    expect(json.hosts[0]!.vitals.disks.length).toBeGreaterThan(0);
  }, 60_000);

  it('rollback returns a host to its previous generation (watchdog confirmed), and generations shows it', async () => {
    const before = lab.generations('web1');
    const previous = before.at(-2)!;
    const run = await fleet(['rollback', 'web1']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/rollback watchdog armed/);
    expect(run.stdout).toMatch(new RegExp(`^web1\\s+changed\\s+verify\\s.*generation ${previous.generation} is the live system and boot default; watchdog confirmed`, 'm'));
    expect(lab.currentSystem('web1')).toBe(previous.storePath);
    expect(lab.bootDefault('web1')).toBe(previous.storePath);

    const gens = await fleet(['generations', 'web1']);
    expect(gens.code).toBe(0);
    // REVISION and BY come from the deploy history: the lab flake is no git checkout (revision -).
    expect(gens.stdout).toMatch(/^\s+GEN\s+DATE\s+REVISION\s+BY\s+SYSTEM$/m);
    expect(gens.stdout).toMatch(new RegExp(`^\\s+${previous.generation}\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\s+\\S+\\s+.+?\\s+${previous.storePath}\\s+\\(live, boot default(, booted)?\\)$`, 'm'));
    const newest = before.at(-1)!;
    expect(gens.stdout).toMatch(new RegExp(`^\\s+${newest.generation}\\s+\\S+ \\S+\\s+-\\s+\\S.*?\\s+${newest.storePath}$`, 'm'));

    // --to N --boot: only the boot default moves.
    const boot = await fleet(['rollback', 'web1', '--to', String(newest.generation), '--boot', '--json']);
    expect(boot.code, boot.stdout).toBe(0);
    expect(JSON.parse(boot.stdout).hosts[0]).toMatchObject({ host: 'web1', outcome: 'changed', storePath: newest.storePath });
    expect(lab.bootDefault('web1')).toBe(newest.storePath);
    expect(lab.currentSystem('web1')).toBe(previous.storePath);
    const gensJson = JSON.parse((await fleet(['generations', 'web1', '--json'])).stdout) as { bootDefault: number; generations: { generation: number; live: boolean }[] };
    expect(gensJson.bootDefault).toBe(newest.generation);
    expect(gensJson.generations.find((g) => g.live)?.generation).toBe(previous.generation);

    const missing = await fleet(['rollback', 'web1', '--to', '99']);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toMatch(/generation 99 does not exist/);
  }, 120_000);

  it('reboot brings a host up on its boot default with a new boot id', async () => {
    const bootId = lab.bootId('web2');
    const bootDefault = lab.bootDefault('web2');
    expect(lab.currentSystem('web2')).not.toBe(bootDefault); // pending reboot from the --boot apply
    const run = await fleet(['reboot', 'web2', '--wait-timeout', '60']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(lab.bootId('web2')).not.toBe(bootId);
    expect(lab.currentSystem('web2')).toBe(bootDefault);
    expect(lab.bootedSystem('web2')).toBe(bootDefault);
    expect(run.stdout).toMatch(/^web2\s+rebooted\s+\S+\s+back after \d+s on its boot default/m);
    const status = await fleet(['status', 'web2']);
    expect(status.code).toBe(0);
  }, 120_000);

  it('a host that never comes back fails within --wait-timeout', async () => {
    let cut: Promise<void> | undefined;
    const run = await runFleetStreaming(lab, ['reboot', '-f', manifest, 'web3', '--wait-timeout', '6'], (line) => {
      if (!cut && line.includes('[web3] reboot: waiting')) cut = lab.cutLink('web3');
    });
    await cut;
    try {
      expect(run.code, run.stdout + run.stderr).toBe(1);
      expect(run.stdout).toMatch(/^web3\s+unreachable\s.*did not come back with a new boot id within 6s/m);
      expect(run.ms).toBeLessThan(6_000 + 8_000);
    } finally {
      await lab.restoreLink('web3');
    }
    await lab.waitForSsh('web3');
  }, 60_000);

  it('build builds without touching a host; push-keys pushes keys whatever keys.push says', async () => {
    const activations = lab.activations('web1').length;
    const build = await fleet(['build', 'web1']);
    expect(build.code, build.stdout + build.stderr).toBe(0);
    const wanted = await lab.toplevels(['web1']);
    expect(build.stdout).toContain(wanted.web1!.split('-')[0]!.slice(0, 20));
    expect(lab.activations('web1').length).toBe(activations);

    const push = await fleet(['push-keys', 'web3', '--json']);
    expect(push.code, push.stdout + push.stderr).toBe(0);
    const report = JSON.parse(push.stdout) as { hosts: { steps: { step: string; status: string; detail: string }[] }[] };
    expect(report.hosts[0]!.steps.find((s) => s.step === 'push-keys')).toMatchObject({ status: 'done', detail: expect.stringMatching(/pushed global_ed25519/) });
    expect(report.hosts[0]!.steps.find((s) => s.step === 'deploy')).toMatchObject({ status: 'skipped', detail: 'not requested' });
    const mode = await lab.ssh('web3', ['stat', '-c', '%a', '/etc/ssh/global_ed25519']);
    expect(mode.stdout.trim()).toBe('600');
  }, 120_000);

  it('build with a buildHost builds on that host through Nix remote building, and brings the result back', async () => {
    const remote = writeLabManifest(lab, join(dir, 'build-host'), [{ name: 'web1', extra: { buildHost: 'web2' } }, { name: 'web2' }]);
    lab.setRevision(40);
    const wanted = (await lab.toplevels(['web1'])).web1!;
    // lab.toplevels built it here: remove it so only the remote build can bring it back.
    expect(spawnSync('nix-store', ['--delete', wanted], { env: { ...process.env, ...lab.env } }).status).toBe(0);
    expect(lab.storePaths('web2')).not.toContain(wanted);
    const build = await runFleet(lab, ['build', '-f', remote, 'web1', '--json']);
    expect(build.code, build.stdout + build.stderr).toBe(0);
    expect((JSON.parse(build.stdout) as { hosts: { storePath: string }[] }).hosts[0]!.storePath).toBe(wanted);
    expect(lab.storePaths('web2')).toContain(wanted);
    expect(existsSync(join(wanted, 'nixos-version'))).toBe(true);
  }, 120_000);

  it('build evaluates all hosts in one evaluator, or in chunks of --eval-limit hosts, or one chunk per core', async () => {
    lab.setRevision(41);
    const evaluations = async (extra: string[]) => {
      // The chunking is what is measured: every run evaluates (the evaluation cache would answer all but the first).
      const run = await fleet(['build', '@web', '--json', '--no-eval-cache', ...extra]);
      expect(run.code, run.stdout + run.stderr).toBe(0);
      const report = JSON.parse(run.stdout) as { evaluations: number; hosts: { outcome: string }[] };
      expect(report.hosts.map((h) => h.outcome)).toEqual(['unchanged', 'unchanged', 'unchanged']);
      return report.evaluations;
    };
    expect(await evaluations(['--eval-jobs', '1'])).toBe(1);
    expect(await evaluations(['--eval-limit', '2'])).toBe(2);
    expect(await evaluations(['--eval-limit', '1'])).toBe(3);
    // By default as many evaluators as cores, and with at least as many hosts as cores a chunk for each.
    const cores = availableParallelism();
    expect(await evaluations([])).toBe(cores > 3 ? 1 : Math.ceil(3 / Math.ceil(3 / cores)));
  }, 120_000);

  /** A nix that logs when each evaluation starts and ends (this machine's clock, in ms). */
  function evalLoggingNix(base: string): { nix: string; evaluations(): { start: number; end: number }[] } {
    mkdirSync(base, { recursive: true });
    const log = join(base, 'evaluations.log');
    const nix = join(base, 'nix');
    writeFileSync(
      nix,
      [
        '#!/bin/sh',
        'case " $* " in *" eval "*) ;; *) exec nix "$@" ;; esac',
        `echo "start $$ $(date +%s%3N)" >> ${log}`,
        'nix "$@"',
        'rc=$?',
        `echo "end $$ $(date +%s%3N)" >> ${log}`,
        'exit $rc',
        '',
      ].join('\n'),
    );
    chmodSync(nix, 0o755);
    const evaluations = () => {
      const events = readFileSync(log, 'utf8').trim().split('\n').map((line) => {
        const [kind, pid, ms] = line.split(' ');
        return { kind: kind as 'start' | 'end', pid: pid!, ms: Number(ms) };
      });
      return [...new Set(events.map((e) => e.pid))].map((pid) => ({
        start: events.find((e) => e.pid === pid && e.kind === 'start')!.ms,
        end: events.find((e) => e.pid === pid && e.kind === 'end')!.ms,
      }));
    };
    return { nix, evaluations };
  }

  it('with --eval-limit 1 --eval-jobs 2, two evaluators run at once and a host deploys before the last chunk is evaluated', async () => {
    const base = join(dir, 'pipeline');
    const { nix, evaluations: evaluated } = evalLoggingNix(base);
    const manifestWithNix = writeLabManifest(lab, base, [{ name: 'web1' }, { name: 'web2' }, { name: 'web3' }], { commands: { nix: [nix] } });
    // Each evaluation takes measurable time (about 1.5 s here), so that the order shows.
    lab.setWeight({ shared: 0, perHost: 1200 });
    lab.setRevision(42);
    const report = join(base, 'report.json');
    let run: FleetRun;
    try {
      run = await runFleet(lab, ['apply', '-f', manifestWithNix, '--eval-limit', '1', '--eval-jobs', '2', '--report', report]);
    } finally {
      lab.setWeight({ shared: 0, perHost: 0 });
    }
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('(chunk 3/3)');

    const evaluations = evaluated();
    expect(evaluations).toHaveLength(3);
    // At most two at once, and two at once at some point: the second started before the first ended.
    const running = (at: number) => evaluations.filter((e) => e.start <= at && at < e.end).length;
    expect(Math.max(...evaluations.map((e) => running(e.start)))).toBe(2);
    const lastEnd = Math.max(...evaluations.map((e) => e.end));

    const written = readReport(report);
    expect(written.hosts.map((h) => h.outcome)).toEqual(['changed', 'changed', 'changed']);
    // Some host took its lock and probed before the last chunk's evaluator had finished.
    const firstStep = Math.min(...written.hosts.map((h) => Date.parse(h.steps[0]!.startedAt)));
    expect(firstStep).toBeLessThan(lastEnd);
  }, 180_000);

  it('one evaluator streams its hosts: the first deploys while it evaluates the next; a configuration that does not evaluate fails only its host', async () => {
    const base = join(dir, 'streaming');
    const { nix, evaluations: evaluated } = evalLoggingNix(base);
    // Chunks [web1, web2] and [web3]; web2's configuration throws after its per-host work.
    const manifestWithNix = writeLabManifest(lab, base, [{ name: 'web1' }, { name: 'web2' }, { name: 'web3' }], { commands: { nix: [nix] } });
    lab.setWeight({ shared: 0, perHost: 1200 });
    lab.setRevision(43);
    lab.setVariant('web2', 'eval-fails');
    const report = join(base, 'report.json');
    let run: FleetRun;
    try {
      run = await runFleet(lab, ['apply', '-f', manifestWithNix, '--eval-limit', '2', '--eval-jobs', '2', '--report', report]);
    } finally {
      lab.setWeight({ shared: 0, perHost: 0 });
      lab.setVariant('web2', 'good');
    }
    expect(run.code, run.stdout + run.stderr).toBe(1);
    const written = readReport(report);
    const byHost = Object.fromEntries(written.hosts.map((h) => [h.host, h]));
    expect(byHost.web1?.outcome).toBe('changed');
    expect(byHost.web3?.outcome).toBe('changed');
    expect(byHost.web2?.outcome).toBe('failed');
    expect(JSON.stringify(byHost.web2)).toContain("does not evaluate (lab variant 'eval-fails')");
    expect(lab.currentSystem('web2')).not.toContain('-r43');

    // Two evaluators, one per chunk: the first traced web1 and stopped at web2, the only host it
    // had not traced, so the failure is web2's without evaluating anything again.
    const evaluations = evaluated();
    expect(evaluations).toHaveLength(2);
    const chunkEvaluator = evaluations.reduce((a, b) => (a.end > b.end ? a : b));
    // web1 took its lock and probed while its evaluator still worked on web2.
    expect(Date.parse(byHost.web1!.steps[0]!.startedAt)).toBeLessThan(chunkEvaluator.end);
  }, 180_000);

  it('install puts a system and its keys into a mounted root, and refuses a root that holds one or is no mount point', async () => {
    const base = mkdtempSync(join(tmpdir(), 'fleet-install-'));
    const root = join(base, 'root');
    mkdirSync(root);
    expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=128m', 'fleet-install', root]).status).toBe(0);
    try {
      const run = await fleet(['install', 'bare', '--root', root]);
      expect(run.code, run.stdout + run.stderr).toBe(0);
      const wanted = await lab.toplevels(['bare']);
      expect(run.stdout).toContain(`bare: installed ${wanted.bare} into ${root}`);
      const profile = join(root, 'nix/var/nix/profiles');
      expect(readlinkSync(join(profile, readlinkSync(join(profile, 'system'))))).toBe(wanted.bare);
      expect(existsSync(join(root, wanted.bare!, 'nixos-version'))).toBe(true);
      expect(existsSync(join(root, 'etc/NIXOS'))).toBe(true);
      const key = join(root, 'etc/ssh/ssh_host_ed25519_key');
      expect(statSync(key).mode & 0o777).toBe(0o600);
      expect(readFileSync(key, 'utf8')).toBe(readFileSync(join(dir, 'host-keys', 'bare', 'ssh_host_ed25519_key'), 'utf8'));
      const install = lab.toolLog().filter((t) => t.tool === 'nixos-install').at(-1)!;
      expect(install.argv).toEqual(['--root', root, '--system', wanted.bare, '--no-root-passwd']);

      const again = await fleet(['install', 'bare', '--root', root]);
      expect(again.code).toBe(2);
      expect(again.stderr).toMatch(/already holds a NixOS system/);
    } finally {
      spawnSync('umount', [root]);
    }
    const notMounted = await fleet(['install', 'bare', '--root', root]);
    expect(notMounted.code).toBe(2);
    expect(notMounted.stderr).toMatch(/is not a mount point/);
  }, 120_000);

  it('bootstrap installs a bare host only with consent (--yes or the host name typed in the tree), then never again', async () => {
    type Host = { host: string; outcome: string; reason: string; steps: { step: string; status: string; detail: string }[] };
    const hostOf = (stdout: string) => (JSON.parse(stdout) as { hosts: Host[] }).hosts[0]!;
    const anywhere = () => lab.toolLog().filter((t) => t.tool === 'nixos-anywhere').length;
    const runs = anywhere();

    // CI, no terminal, no --yes: no consent, nothing runs on the host.
    const refused = await fleet(['bootstrap', 'bare', '--json']);
    expect(refused.code, refused.stdout + refused.stderr).toBe(1);
    expect(hostOf(refused.stdout)).toMatchObject({ outcome: 'skipped', reason: expect.stringMatching(/wipes the disks of root@.*not confirmed \(run with --yes/) });
    expect(anywhere()).toBe(runs);
    expect(lab.currentSystem('bare')).toBeNull();

    // On a terminal the question is asked in the host's line of the live view; another name than the host's is a no.
    const question = /WIPES DISKS of root@\S+: type bare \+ Enter to confirm ›/;
    const wrong = await runFleetInTerminal(lab, ['bootstrap', '-f', manifest, 'bare'], { when: question, keys: 'web1\r' });
    expect(wrong.code, wrong.screen).toBe(1);
    expect(wrong.screen).toMatch(question);
    expect(wrong.screen).toMatch(/bare\s+skipped\s+bootstrap\s.*not confirmed/);
    expect(anywhere()).toBe(runs);

    // Typing the host's name is a yes: it is installed, and only push-keys and bootstrap ran.
    const typed = await runFleetInTerminal(lab, ['bootstrap', '-f', manifest, 'bare'], { when: question, keys: 'bare\r' });
    expect(typed.code, typed.screen).toBe(0);
    // The answer stays on the final screen, above the summary.
    expect(typed.screen).toMatch(/^bare: bootstrap confirmed at the terminal\r?$/m);
    expect(typed.screen).toMatch(/^bare\s+changed\s+verify\s+\S+\s+installed\r?$/m);
    const wanted = await lab.toplevels(['bare']);
    expect(anywhere()).toBe(runs + 1);
    expect(lab.currentSystem('bare')).toBe(wanted.bare);
    const disk = lab.diskFiles('bare');

    // Installed now: the same command, even with --yes, leaves its disk alone.
    const again = await fleet(['bootstrap', 'bare', '--yes', '--json']);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(hostOf(again.stdout).steps.find((s) => s.step === 'bootstrap')).toMatchObject({ status: 'skipped', detail: expect.stringMatching(/already NixOS/) });
    expect(anywhere()).toBe(runs + 1);
    expect(lab.diskFiles('bare')).toEqual(disk);
  }, 180_000);
});
