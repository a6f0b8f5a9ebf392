// fleet apply against real lab hosts: bootstrap + deploy, unchanged re-run, --boot on one host,
// a failing activation, the JSON report and the plain/tty renderers on real runs; once with the
// nixos-rebuild-ng stand-in, once with the bash nixos-rebuild's and once with an ng from before
// --store-path (fleet asks neither to evaluate: it activates the prebuilt system itself, as they would).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from './lab.js';
import { readReport, runFleet, runFleetInside, runFleetInTerminal, writeLabManifest } from './fleet-harness.js';

/**
 * nixos-rebuild calls other than fleet's flavour question (`nixos-rebuild --store-path`), from the
 * lab's tool log (one entry per call) or a raw event list (its `start` events).
 */
function rebuildRuns(tools: { tool: string; event?: string; argv?: string[] }[]): string[][] {
  return tools
    .filter((t) => t.tool === 'nixos-rebuild' && (t.event === undefined || t.event === 'start'))
    .filter((t) => !(t.argv?.length === 1 && t.argv[0] === '--store-path'))
    .map((t) => t.argv ?? []);
}

describe.each(['ng', 'bash', 'ng-old'] as const)('fleet apply in the lab (%s nixos-rebuild)', (flavour) => {
  // nixos-rebuild-ng with --store-path activates; for the bash one, or an ng from before the flag, fleet does.
  const fleetActivates = flavour !== 'ng';
  let lab: Lab;
  let dir: string;
  let manifest: string;
  const hosts = ['bare', 'web1', 'web2', 'web3'];

  beforeAll(async () => {
    lab = await startLab({
      hosts: [
        { name: 'bare', state: 'bare' },
        { name: 'web1', state: 'installed' },
        { name: 'web2', state: 'installed' },
        { name: 'web3', state: 'installed' },
      ],
    });
    // The stand-ins read it; fleet itself must tell the flavour by asking the tool.
    lab.env.FLEET_LAB_REBUILD_FLAVOUR = flavour;
    dir = mkdtempSync(join(tmpdir(), 'fleet-apply-'));
    manifest = writeLabManifest(lab, dir, [{ name: 'bare', bootstrap: true }, { name: 'web1' }, { name: 'web2' }, { name: 'web3' }]);
  });

  afterAll(async () => {
    await lab?.stop();
  });

  it('bootstraps the bare host and deploys the others in one run', async () => {
    lab.setRevision(2);
    const wanted = await lab.toplevels(hosts);
    const before = Object.fromEntries(hosts.map((h) => [h, lab.generations(h).length]));
    const report = join(dir, 'report-1.json');
    const trace = join(dir, 'trace-1.jsonl');
    const run = await runFleet(lab, ['apply', '-f', manifest, '--yes', '--report', report], { env: { FLEET_TRACE_EXEC: trace } });
    expect(run.stderr).toBe('');
    expect(run.code, run.stdout).toBe(0);

    for (const host of hosts) {
      expect(lab.currentSystem(host), host).toBe(wanted[host]);
      expect(lab.bootDefault(host), host).toBe(wanted[host]);
      const generations = lab.generations(host);
      expect(generations.length, host).toBe(before[host]! + 1);
      expect(generations.find((g) => g.current)?.storePath, host).toBe(wanted[host]);
    }

    // push-keys generated the host key, nixos-anywhere put it on the new system, fleet pinned it.
    const pushed = readFileSync(join(dir, 'host-keys', 'bare', 'ssh_host_ed25519_key.pub'), 'utf8').trim();
    expect(lab.currentHostPublicKey('bare')).toBe(pushed.split(/\s+/).slice(0, 2).join(' '));
    const pinned = join(dir, 'known_hosts.bare-only');
    writeFileSync(pinned, `${lab.host('bare').address} ${pushed}\n`);
    const ssh = spawnSync('ssh', ['-o', 'BatchMode=yes', '-o', `UserKnownHostsFile=${pinned}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'GlobalKnownHostsFile=/dev/null', '-i', lab.clientKey, `root@${lab.host('bare').address}`, 'readlink -f /run/current-system'], { encoding: 'utf8' });
    expect(ssh.stderr).not.toMatch(/verification failed/);
    expect(ssh.stdout.trim()).toBe(wanted.bare);

    const json = readReport(report);
    expect(json.exitCode).toBe(0);
    expect(json.hosts.map((h) => [h.host, h.outcome])).toEqual(hosts.map((h) => [h, 'changed']));
    const bare = json.hosts.find((h) => h.host === 'bare')!;
    expect(bare.steps.map((s) => [s.step, s.status])).toEqual([
      ['probe', 'done'],
      ['push-keys', 'done'],
      ['bootstrap', 'done'],
      ['deploy', 'skipped'],
      ['verify', 'done'],
    ]);
    const web1 = json.hosts.find((h) => h.host === 'web1')!;
    expect(web1.steps.find((s) => s.step === 'bootstrap')).toMatchObject({ status: 'skipped', detail: 'no bootstrap options' });
    expect(web1.storePath).toBe(wanted.web1);

    // Plain CI output: host-prefixed lines, no escape sequences, then the summary table.
    expect(run.stdout).toMatch(/^\[web1\] deploy: /m);
    expect(run.stdout).toMatch(/^\[bare\] bootstrap: /m);
    expect(run.stdout).not.toContain('\u001b[');
    expect(run.stdout).toMatch(/HOST\s+OUTCOME\s+STEP\s+TIME\s+(UPLOADED\s+)?REASON/);
    // nixos-anywhere's ssh warnings (its own UserKnownHostsFile=/dev/null) stay off the screen.
    expect(run.stdout).not.toMatch(/Permanently added/);

    // nixos-anywhere ran once, on prebuilt store paths, with the keys as --extra-files.
    const anywhere = lab.toolLog().filter((t) => t.tool === 'nixos-anywhere');
    expect(anywhere).toHaveLength(1);
    expect(anywhere[0]!.argv).toEqual(expect.arrayContaining(['--store-paths', '--phases', 'disko,install,reboot', '--build-on', 'local', '--extra-files']));

    // fleet passes no algorithm of its own (the manifest sets none): one shared socket per host,
    // whether or not keys cross it.
    const started = readFileSync(trace, 'utf8').trim().split('\n').map((line) => (JSON.parse(line) as { argv: string[] }).argv);
    expect(started.filter((argv) => argv.some((a) => /^(KexAlgorithms|Ciphers|MACs)=/i.test(a)))).toEqual([]);
    expect(started.some((argv) => argv[0] === 'ssh' && argv.includes('-G'))).toBe(false);
    const lockOf = (host: string) => started.find((argv) => argv[0] === 'ssh' && argv.includes(`root@${lab.host(host).address}`) && argv.some((a) => a.includes('fleet-lock')))!;
    for (const host of ['web1', 'bare']) expect(lockOf(host).find((a) => a.startsWith('ControlPath='))).toMatch(/\/%C$/);

    // One evaluation per host in all: with the bash nixos-rebuild fleet never calls it to deploy.
    const rebuilds = rebuildRuns(lab.toolLog());
    if (fleetActivates) expect(rebuilds).toEqual([]);
    else expect(rebuilds.every((argv) => argv.includes('--store-path') && !argv.includes('--flake'))).toBe(true);
  }, 240_000);

  it('a second run with nothing changed activates nothing', async () => {
    const activations = Object.fromEntries(hosts.map((h) => [h, lab.activations(h).length]));
    const report = join(dir, 'report-2.json');
    const run = await runFleet(lab, ['apply', '-f', manifest, '--report', report]);
    expect(run.code, run.stdout).toBe(0);
    const json = readReport(report);
    expect(json.hosts.map((h) => [h.host, h.outcome])).toEqual(hosts.map((h) => [h, 'unchanged']));
    for (const host of hosts) expect(lab.activations(host).length, host).toBe(activations[host]);
    // The bare host is installed now: it is never bootstrapped again.
    expect(json.hosts.find((h) => h.host === 'bare')!.steps.find((s) => s.step === 'bootstrap')?.detail).toMatch(/already NixOS/);
  }, 180_000);

  it('a host with neither keys nor secrets negotiates the key exchange a plain ssh does, on every connection', async () => {
    // ssh on fleet's PATH logs its debug output to a file (-v -E: logging only, nothing negotiated changes).
    const wrapDir = mkdtempSync(join(tmpdir(), 'fleet-ssh-v-'));
    const log = join(wrapDir, 'ssh.log');
    const real = spawnSync('sh', ['-c', 'command -v ssh'], { encoding: 'utf8' }).stdout.trim();
    writeFileSync(join(wrapDir, 'ssh'), `#!/bin/sh\nexec ${real} -v -E ${log} "$@"\n`, { mode: 0o755 });
    const run = await runFleet(lab, ['apply', '-f', manifest, '--only', 'web3', '--force'], { env: { PATH: `${wrapDir}:${lab.env.PATH}` } });
    expect(run.code, run.stdout).toBe(0);
    const kexOf = (text: string) => [...text.matchAll(/^debug1: kex: algorithm: (\S+)/gm)].map((m) => m[1]);
    const fleets = kexOf(readFileSync(log, 'utf8'));
    // The shared master and the fresh connection that confirms the watchdog, at least.
    expect(fleets.length).toBeGreaterThanOrEqual(2);
    const plain = spawnSync(real, ['-v', '-o', 'BatchMode=yes', '-o', `UserKnownHostsFile=${lab.knownHosts}`, '-i', lab.clientKey, `root@${lab.host('web3').address}`, 'true'], { encoding: 'utf8' });
    expect(plain.status, plain.stderr).toBe(0);
    const expected = kexOf(plain.stderr);
    expect(expected).toHaveLength(1);
    expect(new Set(fleets)).toEqual(new Set(expected));
  }, 180_000);

  it('--only web1 --boot changes only web1, and only its boot default', async () => {
    const live = Object.fromEntries(hosts.map((h) => [h, lab.currentSystem(h)]));
    const activations = Object.fromEntries(hosts.map((h) => [h, lab.activations(h).length]));
    lab.setRevision(3);
    const wanted = await lab.toplevels(['web1']);
    const run = await runFleet(lab, ['apply', '-f', manifest, '--only', 'web1', '--boot']);
    expect(run.code, run.stdout).toBe(0);
    expect(lab.bootDefault('web1')).toBe(wanted.web1);
    expect(lab.currentSystem('web1')).toBe(live.web1);
    expect(lab.activations('web1').at(-1)).toMatchObject({ action: 'boot', storePath: wanted.web1 });
    for (const other of hosts.filter((h) => h !== 'web1')) {
      expect(lab.activations(other).length, other).toBe(activations[other]);
      expect(lab.currentSystem(other), other).toBe(live[other]);
    }
  }, 180_000);

  it('a failing activation fails that host with the tool output, and the others still deploy', async () => {
    lab.setVariant('web2', 'fails');
    const wanted = await lab.toplevels(hosts);
    const before = lab.currentSystem('web2');
    const report = join(dir, 'report-4.json');
    const run = await runFleet(lab, ['apply', '-f', manifest, '--report', report]);
    expect(run.code, run.stdout).toBe(1);
    const json = readReport(report);
    const web2 = json.hosts.find((h) => h.host === 'web2')!;
    expect(web2).toMatchObject({ outcome: 'failed', step: 'deploy' });
    expect(web2.reason).toMatch(!fleetActivates ? /nixos-rebuild switch failed \(exit 1\)/ : /activate switch \(as nixos-rebuild does\) failed \(exit 1\)/);
    expect(lab.currentSystem('web2')).toBe(before);
    for (const other of ['bare', 'web1', 'web3']) {
      expect(json.hosts.find((h) => h.host === other)?.outcome, other).toMatch(/changed|unchanged/);
      expect(lab.currentSystem(other), other).toBe(wanted[other]);
    }
    // The summary shows the last lines of the failing command.
    expect(run.stdout).toMatch(/web2.*failed/i);
    expect(run.stdout).toMatch(!fleetActivates ? /switch-to-configuration/ : /lab variant 'fails'/);
    lab.setVariant('web2', 'good');
  }, 180_000);

  it('--fail-fast --parallel 1: after web2 fails, web3 is not started', async () => {
    lab.setVariant('web2', 'fails');
    lab.setRevision(4);
    const before = lab.currentSystem('web3');
    const activations = lab.activations('web3').length;
    const report = join(dir, 'report-fail-fast.json');
    // Hosts start in the order their systems are built: one evaluator at a time keeps manifest order.
    const run = await runFleet(lab, ['apply', '-f', manifest, '--fail-fast', '--parallel', '1', '--eval-jobs', '1', '--report', report]);
    lab.setVariant('web2', 'good');
    expect(run.code, run.stdout).toBe(1);
    const json = readReport(report);
    expect(json.hosts.map((h) => [h.host, h.outcome])).toEqual([
      ['bare', 'changed'],
      ['web1', 'changed'],
      ['web2', 'failed'],
      ['web3', 'skipped'],
    ]);
    expect(json.hosts[3]!.reason).toBe('not started: --fail-fast after web2 failed');
    expect(lab.currentSystem('web3')).toBe(before);
    expect(lab.activations('web3').length).toBe(activations);
  }, 180_000);

  it('a failing health check fails the host at verify, on its new system; a passing one lets it end ok', async () => {
    const marker = `/tmp/fleet-health-${process.pid}`;
    const checked = writeLabManifest(lab, join(dir, 'health'), [
      { name: 'web3', extra: { healthChecks: [{ name: 'marker', command: ['test', '-e', marker], timeout: 5 }] } },
    ]);
    lab.setRevision(5);
    const wanted = await lab.toplevels(['web3']);
    const report = join(dir, 'report-health.json');
    const failing = await runFleet(lab, ['apply', '-f', checked, '--report', report]);
    expect(failing.code, failing.stdout).toBe(1);
    const web3 = readReport(report).hosts.find((h) => h.host === 'web3')!;
    expect(web3).toMatchObject({ outcome: 'failed', step: 'verify' });
    expect(web3.reason).toBe('health check "marker" failed (exit 1); the new system stays live');
    expect(lab.currentSystem('web3')).toBe(wanted.web3);
    expect(failing.stdout).toMatch(/fleet rollback web3/);

    expect((await lab.ssh('web3', ['touch', marker])).exitCode).toBe(0);
    const passing = await runFleet(lab, ['apply', '-f', checked, '--force', '--report', report]);
    expect(passing.code, passing.stdout).toBe(0);
    expect(readReport(report).hosts[0]!.steps.find((s) => s.step === 'verify')?.detail).toMatch(/health checks passed \(marker\)/);
  }, 180_000);

  it('deploys as a non-root user through sudo, watchdog and all', async () => {
    const asDeploy = writeLabManifest(lab, join(dir, 'sudo'), [
      { name: 'web2', extra: { target: `deploy@${lab.host('web2').address}`, healthChecks: [{ name: 'as-root', command: ['sh', '-c', 'test "$(id -u)" = 0'], timeout: 5 }] } },
    ]);
    lab.setRevision(7);
    const wanted = await lab.toplevels(['web2']);
    const report = join(dir, 'report-sudo.json');
    const run = await runFleet(lab, ['apply', '-f', asDeploy, '--report', report]);
    expect(run.code, run.stdout).toBe(0);
    expect(lab.currentSystem('web2')).toBe(wanted.web2);
    expect(lab.bootDefault('web2')).toBe(wanted.web2);
    const web2 = readReport(report).hosts[0]!;
    expect(web2.steps.find((s) => s.step === 'verify')?.detail).toMatch(/watchdog confirmed; health checks passed \(as-root\)/);
    // sudo -n for every remote step: no password prompt, no host name warning.
    expect(run.stdout).not.toMatch(/sudo:/);
    if (flavour === 'ng') {
      const rebuild = rebuildRuns(lab.toolLog()).at(-1)!;
      expect(rebuild).toEqual(expect.arrayContaining(['--sudo', '--target-host', `deploy@${lab.host('web2').address}`]));
    }
  }, 180_000);

  it('renders the live step tree on a terminal with --verbose', async () => {
    lab.setRevision(6);
    const wanted = await lab.toplevels(['web3']);
    const result = await runFleetInTerminal(lab, ['apply', '-f', manifest, '--only', 'web3', '--verbose']);
    expect(result.code, result.screen).toBe(0);
    expect(lab.currentSystem('web3')).toBe(wanted.web3);
    const screen = result.screen;
    expect(result.raw).toContain('\u001b['); // a real terminal rendering, not plain lines
    expect(screen).not.toMatch(/^\[web3\] deploy:/m);
    // The collapsed host line of the tree (the compact view counts finished hosts instead).
    expect(screen).toMatch(/web3\s+deployed switch\s+\/nix\/store\//);
    // While it ran, its steps were drawn under it as it reached them, and ended done.
    const frames = result.raw.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '');
    expect(frames).toMatch(/^ {2}✔ lock and probe: .+ \d+\.\ds$/m);
    expect(frames).toMatch(/^ {2}✔ deploy \(switch\): switch \/nix\/store\/…-\S+ {2}\d+\.\ds$/m);
    expect(frames).toMatch(/^ {2}\S verify/m);
  }, 180_000);

  it('a local target deploys the machine fleet runs on, with nixos-rebuild and no ssh', async () => {
    // fleet runs inside web1 here (its own /nix, /run and sshd): "local" is web1.
    lab.setRevision(8);
    const before = lab.generations('web1').length;
    const run = await runFleetInside(lab, 'web1', 'version: 1\nflake: /tmp/flake\nhosts:\n  web1:\n    target: local\n', ['apply']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const built = /built toplevel (\S+)/.exec(run.stdout)?.[1];
    expect(built).toMatch(/-nixos-system-web1-25\.11\.lab-r8$/);
    expect(lab.currentSystem('web1')).toBe(built);
    expect(lab.bootDefault('web1')).toBe(built);
    expect(lab.generations('web1').length).toBe(before + 1);
    expect(run.stdout).toMatch(/\[web1\] verify: done \(running the built system\)/);
    if (fleetActivates) {
      // fleet activated it itself, on this machine: nixos-rebuild was only asked which it is.
      expect(rebuildRuns(run.tools)).toEqual([]);
      return;
    }
    // nixos-rebuild without --target-host ...
    expect(rebuildRuns(run.tools)).toEqual([['switch', '--store-path', built, '--no-reexec']]);
    // ... and every operation it did was local: no copy, no ssh.
    const steps = run.tools.filter((t) => t.tool === 'nixos-rebuild' && t.event === 'step').map((t) => t.step);
    expect(steps.length).toBeGreaterThan(0);
    expect(new Set(steps)).toEqual(new Set(['local']));
  }, 180_000);
});
