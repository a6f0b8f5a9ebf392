// fleet's safety guarantees, each proven against real lab hosts with real processes: rollback on
// SSH loss, a clean watchdog after a confirmed deploy, cut links, dead sshd, activation exit codes,
// a full disk, SIGINT, the deploy lock, the bootstrap guard, pinned host keys and secret handling.
import { spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCK_STALE_SECONDS } from '../../src/plan/remote-scripts.js';
import { startLab, type Lab } from './lab.js';
import { hostOf, readReport, runFleet, sleep, waitFor, writeLabManifest, type FleetRun, type LabManifestHost } from './fleet-harness.js';

/** Seconds after which an unconfirmed target rolls back (short, to keep the tests quick). */
const ROLLBACK = 10;
/** The `slow` variant's activation time, and a watchdog timeout well above it. */
const SLOW_SECONDS = 10;
const SLOW_ROLLBACK = 25;

describe('fleet safety guarantees in the lab', () => {
  let lab: Lab;
  let dir: string;
  let revision = 1;
  const bump = () => lab.setRevision(++revision);

  beforeAll(async () => {
    lab = await startLab({
      slowSeconds: SLOW_SECONDS,
      hosts: [
        { name: 'brk', state: 'installed' },
        { name: 'web', state: 'installed' },
        { name: 'cut', state: 'installed' },
        { name: 'dead', state: 'installed' },
        { name: 'units', state: 'installed' },
        { name: 'rbt', state: 'installed' },
        { name: 'full', state: 'installed' },
        { name: 'slow', state: 'installed', variant: 'slow' },
        { name: 'inst', state: 'installed' },
        { name: 'gone', state: 'bare' },
        { name: 'keyd', state: 'installed' },
        { name: 'bare', state: 'bare' },
        { name: 'sec', state: 'installed' },
      ],
    });
    dir = mkdtempSync(join(tmpdir(), 'fleet-safety-'));
  }, 180_000);

  afterAll(async () => {
    await lab?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A manifest of its own for one test, every host with a short rollback timeout. */
  function manifest(name: string, hosts: LabManifestHost[], top: Record<string, unknown> = {}): string {
    return writeLabManifest(
      lab,
      join(dir, name),
      hosts.map((h) => ({ ...h, extra: { rollback: { timeout: h.name === 'slow' ? SLOW_ROLLBACK : ROLLBACK }, ...h.extra } })),
      top,
    );
  }

  function apply(path: string, args: string[], options: Parameters<typeof runFleet>[2] = {}): Promise<FleetRun> {
    return runFleet(lab, ['apply', '-f', path, ...args], options);
  }

  /** Built toplevels by host. */
  function wantedOf(names: string[]): Promise<Record<string, string>> {
    return lab.toplevels(names);
  }

  function profileOf(host: string): string | undefined {
    return lab.generations(host).find((g) => g.current)?.storePath;
  }

  /** What of the watchdog is left on a host: files under /run/fleet and processes in its mount namespace. */
  async function watchdogLeftovers(host: string): Promise<{ files: string[]; processes: string[] }> {
    const files = await lab.exec(host, ['sh', '-c', 'ls -A /run/fleet 2>/dev/null || true']);
    // No PID namespace in the lab: only processes sharing this host's mount namespace are its own.
    const procs = await lab.exec(host, [
      'sh',
      '-c',
      'self=$(readlink /proc/self/ns/mnt); for p in /proc/[0-9]*; do ' +
        '[ "$(readlink "$p/ns/mnt" 2>/dev/null)" = "$self" ] && { tr "\\0" " " < "$p/cmdline"; echo; }; done; true',
    ]);
    return {
      files: files.stdout.split('\n').filter((f) => /watchdog|confirm|rolled-back/.test(f)),
      processes: procs.stdout.split('\n').filter((l) => l.includes('fleet-watchdog')),
    };
  }

  it.each(['ng', 'bash'] as const)('1. a deploy that breaks ssh is rolled back by the target; the other host is unaffected (%s nixos-rebuild)', async (flavour) => {
    lab.env.FLEET_LAB_REBUILD_FLAVOUR = flavour;
    const path = manifest(`t1-${flavour}`, [{ name: 'brk' }, { name: 'web' }]);
    const old = { live: lab.currentSystem('brk'), boot: lab.bootDefault('brk'), profile: profileOf('brk') };
    bump();
    lab.setVariant('brk', 'breaks-ssh');
    const wanted = await wantedOf(['brk', 'web']);
    const report = join(dir, `t1-${flavour}`, 'report.json');
    const run = await apply(path, ['--only', 'brk,web', '--report', report]);
    expect(run.code, run.stdout).toBe(1);

    const json = readReport(report);
    expect(json.exitCode).toBe(1);
    const brk = hostOf(json, 'brk');
    expect(brk.outcome, brk.reason).toBe('rolled-back');
    expect(brk.reason).toMatch(/lost SSH after activation; the target rolled back to /);
    expect(run.stdout).toMatch(/lost SSH after activation — target rolls back at \d\d:\d\d:\d\d/);

    // The new system was really activated, then the target itself went back.
    expect(lab.activations('brk').some((a) => a.action === 'switch' && a.storePath === wanted.brk)).toBe(true);
    expect(lab.currentSystem('brk')).toBe(old.live);
    expect(lab.bootDefault('brk')).toBe(old.boot);
    expect(profileOf('brk')).toBe(old.profile);
    const fresh = await lab.ssh('brk', ['readlink', '-f', '/run/current-system']);
    expect(fresh.exitCode, fresh.stderr).toBe(0);
    expect(fresh.stdout.trim()).toBe(old.live);

    expect(hostOf(json, 'web').outcome).toBe('changed');
    expect(lab.currentSystem('web')).toBe(wanted.web);
    lab.setVariant('brk', 'good');
    delete lab.env.FLEET_LAB_REBUILD_FLAVOUR;
  }, 240_000);

  it('2. a healthy deploy is confirmed: after the timeout it still runs the new system, no watchdog is left', async () => {
    const path = manifest('t2', [{ name: 'web' }]);
    bump();
    const wanted = await wantedOf(['web']);
    const report = join(dir, 't2', 'report.json');
    const started = Date.now();
    const run = await apply(path, ['--only', 'web', '--report', report]);
    expect(run.code, run.stdout).toBe(0);
    const web = hostOf(readReport(report), 'web');
    expect(web.outcome).toBe('changed');
    expect(web.steps.find((s) => s.step === 'verify')?.detail).toMatch(/watchdog confirmed/);
    const activations = lab.activations('web').length;

    // Nothing of the watchdog right after the run…
    expect(await watchdogLeftovers('web')).toEqual({ files: [], processes: [] });
    // …and still nothing, and no rollback, once its timeout has long passed.
    await sleep(Math.max(0, started + (ROLLBACK + 5) * 1000 - Date.now()));
    expect(lab.currentSystem('web')).toBe(wanted.web);
    expect(lab.bootDefault('web')).toBe(wanted.web);
    expect(profileOf('web')).toBe(wanted.web);
    expect(lab.activations('web').length).toBe(activations);
    expect(await watchdogLeftovers('web')).toEqual({ files: [], processes: [] });
  }, 180_000);

  it('3. a link cut during the copy fails the host after bounded retries; it keeps its system; a re-run completes', async () => {
    // A nix wrapper that holds `nix copy` at its start until the test has cut the link.
    const gate = join(dir, 't3');
    const wrapper = join(dir, 'nix-gated');
    writeFileSync(
      wrapper,
      `#!/bin/sh
case " $* " in *" copy "*)
  touch ${gate}/copy-started
  i=0; while [ ! -e ${gate}/go ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done;;
esac
exec nix "$@"
`,
    );
    chmodSync(wrapper, 0o755);
    const path = manifest('t3', [{ name: 'cut' }], { commands: { nix: [wrapper] } });
    const old = { live: lab.currentSystem('cut'), boot: lab.bootDefault('cut'), profile: profileOf('cut'), activations: lab.activations('cut').length };
    bump();
    const wanted = await wantedOf(['cut']);
    const report = join(gate, 'report.json');
    const started = Date.now();
    const running = apply(path, ['--only', 'cut', '--report', report]);
    await waitFor('the copy to start', () => existsSync(join(gate, 'copy-started')), 120_000);
    await lab.cutLink('cut');
    const cutAt = Date.now();
    writeFileSync(join(gate, 'go'), '');
    const run = await running;
    const elapsed = Date.now() - started;
    // While the link is still down (no FIN can reach the target), the target itself drops the
    // deploy lock of the dead session once its heartbeat has stopped for LOCK_STALE_SECONDS.
    const lockFree = async () => (await lab.exec('cut', ['flock', '-n', '/run/fleet/deploy.lock', 'true'])).exitCode === 0;
    // (Still held now: the last heartbeat reached it at most ~10 s before the cut.)
    if (Date.now() < cutAt + (LOCK_STALE_SECONDS - 15) * 1000) expect(await lockFree()).toBe(false);
    await waitFor('the target to drop the stale lock', lockFree, cutAt + (LOCK_STALE_SECONDS + 40) * 1000 - Date.now());
    await lab.restoreLink('cut');

    expect(run.code, run.stdout).toBe(1);
    const cut = hostOf(readReport(report), 'cut');
    expect(cut).toMatchObject({ outcome: 'failed', step: 'deploy' });
    expect(cut.reason).toMatch(/copying the closure failed after 3 attempts: ./);
    expect(run.stdout).toMatch(/copy failed \(attempt 1 of 3\), retrying/);
    expect(elapsed).toBeLessThan(150_000);
    expect(lab.currentSystem('cut')).toBe(old.live);
    expect(lab.bootDefault('cut')).toBe(old.boot);
    expect(profileOf('cut')).toBe(old.profile);
    expect(lab.activations('cut').length).toBe(old.activations);

    await lab.waitForSsh('cut', 30_000);
    const again = await apply(path, ['--only', 'cut', '--report', report]);
    expect(again.code, again.stdout).toBe(0);
    expect(hostOf(readReport(report), 'cut').outcome).toBe('changed');
    expect(lab.currentSystem('cut')).toBe(wanted.cut);
  }, 300_000);

  it('4. a host whose sshd is dead fails fast as unreachable; the others deploy', async () => {
    const path = manifest('t4', [{ name: 'dead' }, { name: 'web' }]);
    const old = lab.currentSystem('dead');
    bump();
    const wanted = await wantedOf(['web']);
    await lab.killSshd('dead');
    const report = join(dir, 't4', 'report.json');
    const run = await apply(path, ['--only', 'dead,web', '--report', report]);
    expect(run.code, run.stdout).toBe(1);
    const json = readReport(report);
    const dead = hostOf(json, 'dead');
    expect(dead).toMatchObject({ outcome: 'unreachable', step: 'probe' });
    expect(dead.reason).toMatch(/cannot reach the host: ssh failed: .*Connection refused/);
    expect(dead.durationMs).toBeLessThan(15_000);
    expect(lab.currentSystem('dead')).toBe(old);
    expect(hostOf(json, 'web').outcome).toBe('changed');
    expect(lab.currentSystem('web')).toBe(wanted.web);
  }, 180_000);

  it('5. activation exit 4 fails the host (unless tolerated); exit 100 is a "reboot required" warning', async () => {
    lab.setVariant('units', 'units-fail');
    lab.setVariant('rbt', 'needs-reboot');
    bump();
    let wanted = await wantedOf(['units', 'rbt']);
    const strict = manifest('t5a', [{ name: 'units' }, { name: 'rbt' }]);
    const report = join(dir, 't5a', 'report.json');
    const run = await apply(strict, ['--only', 'units', '--report', report]);
    expect(run.code, run.stdout).toBe(1);
    const units = hostOf(readReport(report), 'units');
    expect(units).toMatchObject({ outcome: 'failed', step: 'deploy' });
    expect(units.reason).toMatch(/some units failed \(switch-to-configuration exit 4\)/);
    // Activated and confirmed: the host runs the new system, it was not rolled back.
    expect(lab.currentSystem('units')).toBe(wanted.units);
    expect(lab.bootDefault('units')).toBe(wanted.units);

    const reboot = await apply(strict, ['--only', 'rbt', '--report', report]);
    expect(reboot.code, reboot.stdout).toBe(0);
    const rbt = hostOf(readReport(report), 'rbt');
    expect(rbt.outcome).toBe('changed');
    expect(rbt.reason).toMatch(/reboot required/);
    expect(lab.currentSystem('rbt')).toBe(wanted.rbt);

    bump();
    wanted = await wantedOf(['units']);
    const tolerant = manifest('t5b', [{ name: 'units', extra: { tolerateUnitFailures: true } }]);
    const report2 = join(dir, 't5b', 'report.json');
    const tolerated = await apply(tolerant, ['--only', 'units', '--report', report2]);
    expect(tolerated.code, tolerated.stdout).toBe(0);
    const units2 = hostOf(readReport(report2), 'units');
    expect(units2.outcome).toBe('changed');
    expect(units2.reason).toMatch(/some units failed \(tolerated\)/);
    expect(lab.currentSystem('units')).toBe(wanted.units);
    lab.setVariant('units', 'good');
    lab.setVariant('rbt', 'good');
  }, 240_000);

  it('6. a full disk on the target fails the copy; the host keeps its old system', async () => {
    const path = manifest('t6', [{ name: 'full' }]);
    const old = { live: lab.currentSystem('full'), boot: lab.bootDefault('full'), profile: profileOf('full'), activations: lab.activations('full').length };
    bump();
    const wanted = await wantedOf(['full']);
    await lab.fillDisk('full');
    const report = join(dir, 't6', 'report.json');
    try {
      const run = await apply(path, ['--only', 'full', '--report', report]);
      expect(run.code, run.stdout).toBe(1);
      const full = hostOf(readReport(report), 'full');
      expect(full).toMatchObject({ outcome: 'failed', step: 'deploy' });
      expect(full.reason).toMatch(/copying the closure failed after 3 attempts/);
    } finally {
      await lab.freeDisk('full');
    }
    expect(lab.currentSystem('full')).toBe(old.live);
    expect(lab.bootDefault('full')).toBe(old.boot);
    expect(profileOf('full')).toBe(old.profile);
    expect(lab.activations('full').length).toBe(old.activations);
    expect(lab.storePaths('full')).not.toContain(wanted.full);
  }, 240_000);

  it('7. SIGINT mid-activation: exit 130 with a summary, and the host ends on one consistent system', async () => {
    const path = manifest('t7', [{ name: 'slow' }]);
    const old = { live: lab.currentSystem('slow'), boot: lab.bootDefault('slow'), profile: profileOf('slow') };
    bump();
    const wanted = await wantedOf(['slow']);
    const report = join(dir, 't7', 'report.json');
    let pid = 0;
    const running = apply(path, ['--only', 'slow', '--report', report], { onSpawn: (p) => (pid = p) });
    // switch makes the new system the boot default first, then activates slowly: interrupt then.
    await waitFor('the slow activation', () => lab.bootDefault('slow') === wanted.slow, 120_000);
    const interruptedAt = Date.now();
    process.kill(pid, 'SIGINT');
    const run = await running;
    expect(run.code, run.stdout).toBe(130);
    expect(run.stdout).toMatch(/HOST\s+OUTCOME\s+STEP\s+TIME\s+(UPLOADED\s+)?REASON/);
    const json = readReport(report);
    expect(json.interrupted).toBe(true);
    // Not "skipped": its activation had started, so the host is failed until its watchdog settles it.
    expect(hostOf(json, 'slow')).toMatchObject({ outcome: 'failed', step: 'deploy' });
    expect(hostOf(json, 'slow').reason).toMatch(/interrupted during activation; the watchdog rolls the host back unless it is confirmed/);

    // Past the watchdog's deadline the host runs one system throughout: old or new, never a mix.
    await sleep(Math.max(0, interruptedAt + (SLOW_ROLLBACK + 5) * 1000 - Date.now()));
    await waitFor('the watchdog to finish', async () => (await watchdogLeftovers('slow')).processes.length === 0, 30_000);
    const live = lab.currentSystem('slow');
    expect([old.live, wanted.slow]).toContain(live);
    console.info(`SIGINT test: the host ended on the ${live === old.live ? 'old (rolled back)' : 'new (confirmed)'} system`);
    if (live === old.live) {
      expect(lab.bootDefault('slow')).toBe(old.boot);
      expect(profileOf('slow')).toBe(old.profile);
      expect((await lab.exec('slow', ['sh', '-c', 'cat /run/fleet/rolled-back-*'])).stdout.trim()).toBe(old.live);
    } else {
      expect(lab.bootDefault('slow')).toBe(wanted.slow);
      expect(profileOf('slow')).toBe(wanted.slow);
    }
    const leftovers = await watchdogLeftovers('slow');
    expect(leftovers.processes).toEqual([]);
    expect(leftovers.files.filter((f) => /\.pid$|^confirm-/.test(f))).toEqual([]);
  }, 240_000);

  it('7b. a second SIGINT leaves at once (exit 130), without waiting for the running tools', async () => {
    // No watchdog here, so no rollback can fire after the test.
    const path = manifest('t7b', [{ name: 'slow', extra: { rollback: { enabled: false } } }]);
    bump();
    const wanted = await wantedOf(['slow']);
    let pid = 0;
    // The first Ctrl-C sends SIGINT to the running tools; this nixos-rebuild finishes its activation
    // first, so fleet would wait for it (up to its SIGKILL grace) but for the second Ctrl-C.
    const running = apply(path, ['--only', 'slow'], { onSpawn: (p) => (pid = p), env: { FLEET_LAB_REBUILD_IGNORES_SIGINT: '1' } });
    await waitFor('the slow activation', () => lab.bootDefault('slow') === wanted.slow, 120_000);
    process.kill(pid, 'SIGINT');
    await sleep(300);
    const secondAt = Date.now();
    process.kill(pid, 'SIGINT');
    const run = await running;
    expect(run.code, run.stdout).toBe(130);
    expect(Date.now() - secondAt).toBeLessThan(3000);
    expect(run.stdout).not.toMatch(/HOST\s+OUTCOME/);
    // Its lock died with its ssh session: the next apply gets it and completes the host.
    const again = await apply(manifest('t7b-again', [{ name: 'slow' }]), ['--only', 'slow', '--lock-timeout', String(SLOW_SECONDS + 10)]);
    expect(again.code, again.stdout).toBe(0);
    expect(lab.currentSystem('slow')).toBe(wanted.slow);
  }, 240_000);

  it('8. two concurrent applies to one host: one deploys, the other reports "locked by …"', async () => {
    const path = manifest('t8', [{ name: 'slow' }]);
    bump();
    const wanted = await wantedOf(['slow']);
    const report1 = join(dir, 't8', 'report-1.json');
    const report2 = join(dir, 't8', 'report-2.json');
    const first = apply(path, ['--only', 'slow', '--report', report1]);
    await waitFor('the first run to activate', () => lab.bootDefault('slow') === wanted.slow, 120_000);
    // The leftover check of tests 2 and 7 does see an armed watchdog (its process and pid file).
    const armed = await watchdogLeftovers('slow');
    expect(armed.processes).toHaveLength(1);
    expect(armed.files.filter((f) => /^watchdog-[0-9a-f]+\.pid$/.test(f))).toHaveLength(1);
    const second = await apply(path, ['--only', 'slow', '--lock-timeout', '0', '--report', report2]);
    expect(second.code, second.stdout).toBe(1);
    const locked = hostOf(readReport(report2), 'slow');
    expect(locked).toMatchObject({ outcome: 'failed', step: 'probe' });
    expect(locked.reason).toMatch(/^locked by \S+ since \d{4}-\d\d-\d\dT/);
    const done = await first;
    expect(done.code, done.stdout).toBe(0);
    expect(hostOf(readReport(report1), 'slow').outcome).toBe('changed');
    expect(lab.currentSystem('slow')).toBe(wanted.slow);
    // One activation of the new system, by the first run only.
    expect(lab.activations('slow').filter((a) => a.storePath === wanted.slow)).toHaveLength(1);
  }, 240_000);

  it('9. an installed host is never bootstrapped, and neither is a host the probe cannot reach', async () => {
    const path = manifest('t9', [
      { name: 'inst', bootstrap: true },
      { name: 'gone', bootstrap: true },
    ]);
    bump();
    const wanted = await wantedOf(['inst']);
    const disks = { inst: lab.diskFiles('inst'), gone: lab.diskFiles('gone') };
    const anywhere = lab.toolLog().filter((t) => t.tool === 'nixos-anywhere').length;
    await lab.cutLink('gone');
    const report = join(dir, 't9', 'report.json');
    let run: FleetRun;
    try {
      run = await apply(path, ['--only', 'inst,gone', '--yes', '--report', report]);
    } finally {
      await lab.restoreLink('gone');
    }
    expect(run.code, run.stdout).toBe(1);
    const json = readReport(report);
    const inst = hostOf(json, 'inst');
    expect(inst.outcome).toBe('changed');
    expect(inst.steps.find((s) => s.step === 'bootstrap')).toMatchObject({ status: 'skipped', detail: 'already NixOS — not bootstrapping' });
    expect(run.stdout).toMatch(/\[inst\] bootstrap: .*already NixOS — not bootstrapping/);
    expect(lab.currentSystem('inst')).toBe(wanted.inst);
    const gone = hostOf(json, 'gone');
    expect(gone.outcome).toBe('unreachable');
    expect(gone.steps.map((s) => s.step)).not.toContain('bootstrap');

    expect(lab.toolLog().filter((t) => t.tool === 'nixos-anywhere')).toHaveLength(anywhere);
    // Nothing was wiped: every file is still there (the deploy only adds nix-env's ~/.nix-defexpr).
    expect(lab.diskFiles('inst')).toEqual(expect.arrayContaining(disks.inst));
    expect(disks.inst).toContain('data/precious.txt');
    expect(readFileSync(join(lab.host('inst').dirs.disk, 'data', 'precious.txt'), 'utf8')).toMatch(/^data on the disk of inst/);
    expect(lab.diskFiles('gone')).toEqual(disks.gone);
  }, 180_000);

  it('10. a host offering another key than the pinned one is refused; nothing runs on it', async () => {
    const other = join(dir, 'wrong-key');
    spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
    const wrong = readFileSync(`${other}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
    const real = join(dir, 'keyd-real.pub');
    writeFileSync(real, `${lab.host('keyd').hostPublicKey}\n`);
    const fingerprint = spawnSync('ssh-keygen', ['-l', '-f', real], { encoding: 'utf8' }).stdout.split(/\s+/)[1]!;
    expect(fingerprint).toMatch(/^SHA256:/);

    const path = manifest('t10', [{ name: 'keyd', extra: { hostKey: [wrong] } }]);
    const old = { live: lab.currentSystem('keyd'), activations: lab.activations('keyd').length };
    bump();
    const tools = lab.toolLog().length;
    const report = join(dir, 't10', 'report.json');
    const run = await apply(path, ['--only', 'keyd', '--report', report]);
    expect(run.code, run.stdout).toBe(1);
    const keyd = hostOf(readReport(report), 'keyd');
    expect(keyd).toMatchObject({ outcome: 'unreachable', step: 'probe' });
    expect(keyd.reason).toContain(`host key verification failed: the host offered ${fingerprint}, which is not pinned`);
    expect(lab.activations('keyd').length).toBe(old.activations);
    expect(lab.currentSystem('keyd')).toBe(old.live);
    const address = lab.host('keyd').address;
    const touching = lab.toolLog().slice(tools).filter((t) => t.argv.some((a) => a.includes(address)));
    expect(touching).toEqual([]);
    // Not even the lock was taken there.
    expect((await lab.exec('keyd', ['sh', '-c', 'ls -A /run/fleet 2>/dev/null || true'])).stdout.trim()).toBe('');
  }, 180_000);

  it('10b. trust on first use: the first run names the fingerprint it accepted; a later change of key is refused', async () => {
    const real = join(dir, 'keyd-tofu.pub');
    writeFileSync(real, `${lab.host('keyd').hostPublicKey}\n`);
    const fingerprint = spawnSync('ssh-keygen', ['-l', '-f', real], { encoding: 'utf8' }).stdout.split(/\s+/)[1]!;
    const path = manifest('t10b', [{ name: 'keyd', extra: { hostKey: undefined, trustOnFirstUse: true } }]);
    const tofuFile = join(dir, 't10b', '.fleet', 'known_hosts.tofu');

    const first = await apply(path, ['--only', 'keyd', '--dry-activate']);
    expect(first.code, first.stdout).toBe(0);
    expect(first.stdout).toContain(`trusted on first use: ssh-ed25519 ${fingerprint}`);
    expect(readFileSync(tofuFile, 'utf8')).toContain(lab.host('keyd').hostPublicKey.split(/\s+/)[1]);

    const second = await apply(path, ['--only', 'keyd', '--dry-activate']);
    expect(second.code, second.stdout).toBe(0);
    expect(second.stdout).not.toContain('trusted on first use');

    // The host now offers a key other than the one accepted: refused, as with a pinned key.
    const other = join(dir, 'tofu-other');
    spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
    const otherKey = readFileSync(`${other}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
    writeFileSync(tofuFile, `${lab.host('keyd').address} ${otherKey}\n`);
    const report = join(dir, 't10b', 'report.json');
    const third = await apply(path, ['--only', 'keyd', '--dry-activate', '--report', report]);
    expect(third.code, third.stdout).toBe(1);
    expect(hostOf(readReport(report), 'keyd').reason).toContain(`host key verification failed: the host offered ${fingerprint}`);
  }, 180_000);

  it("10c. a host whose key fleet does not know is checked against the user's own known_hosts, strictly", async () => {
    const path = manifest('t10c', [{ name: 'keyd', extra: { hostKey: undefined } }]);
    const report = join(dir, 't10c', 'report.json');
    // Not in ~/.ssh/known_hosts: refused (no trust on first use), nothing runs on it.
    const refused = await apply(path, ['--only', 'keyd', '--dry-activate', '--report', report]);
    expect(refused.code, refused.stdout).toBe(1);
    expect(hostOf(readReport(report), 'keyd')).toMatchObject({
      outcome: 'unreachable',
      reason: expect.stringMatching(/host key verification failed: no ED25519 key is known for \S+ \(pin it with hostKey\)/),
    });

    // Listed there (as `ssh-keyscan >> ~/.ssh/known_hosts` would): accepted. ssh reads the file of
    // the user's passwd entry, so the test adds one line for this lab's address and removes it.
    const knownHosts = join(userInfo().homedir, '.ssh', 'known_hosts');
    const line = `${lab.host('keyd').address} ${lab.host('keyd').hostPublicKey.split(/\s+/).slice(0, 2).join(' ')}`;
    const existed = existsSync(knownHosts);
    mkdirSync(dirname(knownHosts), { recursive: true, mode: 0o700 });
    appendFileSync(knownHosts, `${line}\n`);
    try {
      const accepted = await apply(path, ['--only', 'keyd', '--dry-activate']);
      expect(accepted.code, accepted.stdout).toBe(0);
    } finally {
      const rest = readFileSync(knownHosts, 'utf8').split('\n').filter((l) => l !== line).join('\n');
      if (existed || rest.trim()) writeFileSync(knownHosts, rest);
      else rmSync(knownHosts);
    }
  }, 180_000);

  it('11. pushed keys reach the targets 0600 and never appear in an argv, an environment, the output, the report or a Nix store', async () => {
    const keyDir = join(dir, 't11-keys');
    const ageBare = join(keyDir, 'age-bare');
    const ageSec = join(keyDir, 'age-sec');
    mkdirSync(keyDir, { recursive: true });
    for (const file of [ageBare, ageSec]) spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file]);
    const hostKeys = join(dir, 't11', 'host-keys');
    const path = manifest('t11', [
      {
        name: 'bare',
        bootstrap: true,
        extra: { keys: { push: 'bootstrap', hostKeySearch: [hostKeys], generate: true, agenixKeyFile: ageBare } },
      },
      { name: 'sec', extra: { keys: { push: 'always', agenixKeyFile: ageSec } } },
    ]);
    bump();
    const wanted = await wantedOf(['bare', 'sec']);
    const trace = join(dir, 't11', 'exec-trace.jsonl');
    const toolLogBefore = readFileSync(lab.logPath, 'utf8').length;
    const report = join(dir, 't11', 'report.json');
    const run = await apply(path, ['--only', 'bare,sec', '--yes', '--report', report], { env: { FLEET_TRACE_EXEC: trace } });
    expect(run.code, run.stdout).toBe(0);
    const json = readReport(report);
    expect(hostOf(json, 'bare').outcome).toBe('changed');
    expect(hostOf(json, 'sec').outcome).toBe('changed');
    expect(hostOf(json, 'sec').steps.find((s) => s.step === 'push-keys')?.detail).toMatch(/pushed global_ed25519 to \/etc\/ssh/);
    expect(lab.currentSystem('bare')).toBe(wanted.bare);

    // Every private key of the run: the raw file, its base64 (what push-keys sends on stdin), and
    // each base64 line of its body.
    const generated = join(hostKeys, 'bare', 'ssh_host_ed25519_key');
    const secrets: string[] = [];
    for (const file of [generated, ageBare, ageSec]) {
      const raw = readFileSync(file);
      const text = raw.toString('utf8');
      const body = text.split('\n').filter((l) => l && !l.startsWith('-----'));
      secrets.push(text.trim(), raw.toString('base64'), body.join(''), ...body);
    }
    const traced = readFileSync(trace, 'utf8');
    expect(traced).toMatch(/"argv":\["ssh"/);
    const haystacks: Record<string, string> = {
      'exec trace (argv + env of every process fleet ran)': traced,
      'stand-ins tool log': readFileSync(lab.logPath, 'utf8').slice(toolLogBefore),
      stdout: run.stdout,
      stderr: run.stderr,
      report: readFileSync(report, 'utf8'),
    };
    for (const [where, text] of Object.entries(haystacks)) {
      for (const secret of secrets) expect(text.includes(secret), `key material in the ${where}`).toBe(false);
    }

    // Nor in any Nix store: this machine's (where the systems were built) or the targets'. The
    // first body line of an OpenSSH key is a header every key shares; the others are key material.
    const material = [generated, ageBare, ageSec].flatMap((file) => readFileSync(file, 'utf8').split('\n').filter((l) => l && !l.startsWith('-----')).slice(1));
    const patterns = material.flatMap((line) => ['-e', line]);
    const local = spawnSync('grep', ['-rlF', ...patterns, '/nix/store'], { encoding: 'utf8' });
    expect(local.status, `key material in the local store: ${local.stdout}`).toBe(1);
    for (const host of ['bare', 'sec']) {
      const remote = await lab.exec(host, ['grep', '-rlF', ...patterns, '/nix/store']);
      expect(remote.exitCode, `key material in ${host}'s store: ${remote.stdout}`).toBe(1);
    }

    // On the targets: right content, mode 0600, owned by root.
    const onTarget = async (host: string, file: string) => {
      const stat = await lab.exec(host, ['stat', '-c', '%a %u', file]);
      const content = await lab.exec(host, ['cat', file]);
      return { stat: stat.stdout.trim(), content: content.stdout };
    };
    expect(await onTarget('bare', '/etc/ssh/ssh_host_ed25519_key')).toEqual({ stat: '600 0', content: readFileSync(generated, 'utf8') });
    expect(await onTarget('bare', '/etc/ssh/global_ed25519')).toEqual({ stat: '600 0', content: readFileSync(ageBare, 'utf8') });
    expect(await onTarget('sec', '/etc/ssh/global_ed25519')).toEqual({ stat: '600 0', content: readFileSync(ageSec, 'utf8') });
    // No temporary key file was left beside them.
    expect((await lab.exec('sec', ['sh', '-c', 'ls -A /etc/ssh'])).stdout).not.toMatch(/\.fleet-key/);
  }, 300_000);

  it('12. a copy that makes no progress is killed after copyTimeout and tried again; the host fails with nothing activated', async () => {
    const path = manifest('t12', [{ name: 'web' }], { copyTimeout: 2 });
    bump();
    const wanted = await wantedOf(['web']);
    const before = { live: lab.currentSystem('web'), boot: lab.bootDefault('web') };
    const activations = lab.activations('web').length;
    // The target's store cannot take the closure: Nix's own lock on the new system's path is held,
    // so its import waits, silent, for as long as the lock is (a stuck nix-daemon looks the same).
    const lock = `${wanted.web}.lock`;
    void lab.exec('web', ['sh', '-c', `echo $$ > /run/t12-holder.pid; exec flock -o ${lock} sleep 120`]);
    await waitFor('the lock holder', async () => (await lab.exec('web', ['sh', '-c', `test -s /run/t12-holder.pid && ! flock -n ${lock} true`])).exitCode === 0, 30_000);
    try {
      const report = join(dir, 't12', 'report.json');
      const run = await apply(path, ['--only', 'web', '--report', report]);
      expect(run.code, run.stdout).toBe(1);
      const web = hostOf(readReport(report), 'web');
      expect(web).toMatchObject({ outcome: 'failed', step: 'deploy' });
      expect(web.reason).toBe('copying the closure failed after 3 attempts: no progress for 2s (copyTimeout), killed');
      expect(run.stdout).toMatch(/\[web\] deploy: copy made no progress for 2s \(attempt 1 of 3\), retrying/);
      expect(lab.activations('web')).toHaveLength(activations);
      expect({ live: lab.currentSystem('web'), boot: lab.bootDefault('web') }).toEqual(before);
    } finally {
      await lab.exec('web', ['sh', '-c', 'kill "$(cat /run/t12-holder.pid)"; rm -f /run/t12-holder.pid']);
    }
    // With the store free again, the same deploy goes through.
    const again = await apply(path, ['--only', 'web']);
    expect(again.code, again.stdout).toBe(0);
    expect(lab.currentSystem('web')).toBe(wanted.web);
  }, 240_000);
});
