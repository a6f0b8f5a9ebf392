// Proves the lab with real processes: ssh with pinned keys, per-host stores, the stand-ins' effects on
// generations / live system / boot default, faults, reboots, bootstrap with nixos-anywhere, teardown.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkLabPrerequisites, labBinDir, startLab, type Lab } from './lab.js';

const T = 120_000;

interface ToolResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

function tool(lab: Lab, argv: string[], extraEnv: Record<string, string> = {}): Promise<ToolResult> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      env: { ...process.env, ...lab.env, NIX_SSHOPTS: lab.sshOptionsString, ...extraEnv },
      cwd: lab.dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ exitCode: code ?? 128, stdout, stderr }));
  });
}

function flakeRef(lab: Lab, host: string): string {
  return `${lab.flakeDir}#${host}`;
}

async function waitFor<X>(what: string, fn: () => Promise<X | undefined> | X | undefined, timeoutMs = 30_000): Promise<X> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function labTraces(prefix: string) {
  const netns = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.includes(`fleet-${prefix}-`));
  const links = spawnSync('ip', ['-o', 'link'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.includes(`fl-${prefix}-`));
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(`/tmp/fleet-lab-${prefix}`));
  const procs = spawnSync('ps', ['-eo', 'pid,stat,args'], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter((l) => (l.includes(`fleet-lab-${prefix}`) || l.includes(`fleet-lab-anchor-${prefix}`)) && !/\sZ/.test(l));
  return { netns, links, mounts, procs, dir: existsSync(`/tmp/fleet-lab-${prefix}`) };
}

describe('the lab', () => {
  let lab: Lab;

  beforeAll(async () => {
    const pre = checkLabPrerequisites();
    if (!pre.ok) throw new Error(pre.explanation);
    lab = await startLab({
      hosts: [
        { name: 'web1', state: 'installed' },
        { name: 'web2', state: 'installed' },
        { name: 'broken', state: 'installed', variant: 'breaks-ssh' },
        { name: 'fresh', state: 'bare' },
      ],
    });
  }, T);

  afterAll(async () => {
    await lab?.stop();
  }, T);

  it('reaches every host over ssh with the pinned known_hosts and StrictHostKeyChecking=yes', async () => {
    for (const h of lab.hosts) {
      const r = await lab.ssh(h.name, ['hostname']);
      expect(r.stderr).toBe('');
      expect(r.exitCode).toBe(0);
      expect(r.stdout.trim()).toBe(h.name);
      expect(readFileSync(lab.knownHosts, 'utf8')).toContain(`${h.address} ${h.hostPublicKey}`);
      expect(h.hostPublicKey).toMatch(/^ssh-ed25519 AAAA/);
    }
    // The key really is checked: with an empty known_hosts the same connection is refused.
    const empty = join(lab.dir, 'empty_known_hosts');
    writeFileSync(empty, '');
    const web1 = lab.host('web1');
    const r = spawnSync('ssh', ['-o', `UserKnownHostsFile=${empty}`, ...lab.sshOptions, `root@${web1.address}`, 'true'], { encoding: 'utf8' });
    expect(r.status).toBe(255);
    expect(r.stderr).toMatch(/Host key verification failed/);
    // Installed hosts are NixOS, the bare one is not.
    expect((await lab.ssh('web1', ['test', '-e', '/etc/NIXOS'])).exitCode).toBe(0);
    expect((await lab.ssh('fresh', ['test', '-e', '/etc/NIXOS'])).exitCode).toBe(1);
    expect(lab.currentSystem('fresh')).toBeNull();
    expect(lab.storePaths('fresh')).toEqual([]);
    expect(lab.generations('web1')).toHaveLength(1);
    expect(lab.currentSystem('web1')).toBe(lab.bootedSystem('web1'));
  }, T);

  it('gives every host its own Nix store: nix copy lands in that host only', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'lab-copy-')), 'payload');
    writeFileSync(file, `payload ${Date.now()} ${Math.random()}\n`);
    const add = spawnSync('nix-store', ['--add', file], { encoding: 'utf8' });
    expect(add.status).toBe(0);
    const path = add.stdout.trim();
    const web1 = lab.host('web1');
    const copy = await tool(lab, ['nix', '--extra-experimental-features', 'nix-command', 'copy', '--to', `ssh://root@${web1.address}`, path]);
    expect(copy.stderr).not.toMatch(/error/);
    expect(copy.exitCode).toBe(0);
    expect(lab.storePaths('web1')).toContain(path);
    expect(lab.storePaths('web2')).not.toContain(path);
    expect(lab.storePaths('fresh')).not.toContain(path);
    expect((await lab.ssh('web1', ['test', '-e', path])).exitCode).toBe(0);
    expect((await lab.ssh('web2', ['test', '-e', path])).exitCode).toBe(1);
  }, T);

  it('nixos-rebuild switch --target-host creates a generation and re-points /run/current-system', async () => {
    const before = lab.generations('web1');
    const addr = lab.host('web1').address;
    const r = await tool(lab, ['nixos-rebuild', 'switch', '--flake', flakeRef(lab, 'web1'), '--target-host', `root@${addr}`]);
    expect(r.stdout + r.stderr).toContain('activating the configuration');
    expect(r.exitCode).toBe(0);
    const { web1: built } = await lab.toplevels(['web1']);
    const after = lab.generations('web1');
    expect(after).toHaveLength(before.length + 1);
    expect(after.at(-1)).toEqual({ generation: before.length + 1, storePath: built, current: true });
    expect(lab.currentSystem('web1')).toBe(built);
    expect(lab.bootDefault('web1')).toBe(built);
    expect(lab.activations('web1').at(-1)).toMatchObject({ action: 'switch', storePath: built, exitCode: 0 });
    const inv = lab.toolLog().filter((i) => i.tool === 'nixos-rebuild').at(-1)!;
    expect(inv.exitCode).toBe(0);
    expect(inv.env).toContain('NIX_SSHOPTS');
    // Without --no-reexec nixos-rebuild-ng first tries the flake's config.system.build.nixos-rebuild.
    expect(inv.steps.map((s) => s.step)).toEqual(['reexec', 'build', 'copy', 'ssh', 'ssh', 'ssh']);
    // ... and the session that ran the activation survived the sshd restart (we got its exit code).
    expect((await lab.ssh('web1', ['true'])).exitCode).toBe(0);
  }, T);

  it('boot changes only the boot default, test only the live system, dry-activate neither', async () => {
    const addr = `root@${lab.host('web1').address}`;
    const live0 = lab.currentSystem('web1');

    lab.setRevision(2);
    const { web1: p2 } = await lab.toplevels(['web1']);
    const gens0 = lab.generations('web1').length;
    const boot = await tool(lab, ['nixos-rebuild', 'boot', '--store-path', p2!, '--target-host', addr]);
    expect(boot.exitCode).toBe(0);
    expect(lab.bootDefault('web1')).toBe(p2);
    expect(lab.currentSystem('web1')).toBe(live0);
    expect(lab.generations('web1')).toHaveLength(gens0 + 1);

    lab.setRevision(3);
    const { web1: p3 } = await lab.toplevels(['web1']);
    const test = await tool(lab, ['nixos-rebuild', 'test', '--flake', flakeRef(lab, 'web1'), '--target-host', addr]);
    expect(test.exitCode).toBe(0);
    expect(lab.currentSystem('web1')).toBe(p3);
    expect(lab.bootDefault('web1')).toBe(p2);
    expect(lab.generations('web1')).toHaveLength(gens0 + 1);

    lab.setRevision(4);
    const dry = await tool(lab, ['nixos-rebuild', 'dry-activate', '--flake', flakeRef(lab, 'web1'), '--target-host', addr]);
    expect(dry.exitCode).toBe(0);
    expect(dry.stdout).toContain('would restart the following units: sshd.service');
    expect(lab.currentSystem('web1')).toBe(p3);
    expect(lab.bootDefault('web1')).toBe(p2);
    expect(lab.generations('web1')).toHaveLength(gens0 + 1);
    expect(lab.activations('web1').map((a) => a.action).slice(-3)).toEqual(['boot', 'test', 'dry-activate']);
  }, T);

  it('breaks-ssh really breaks a fresh ssh connection; rolling back inside the host repairs it', async () => {
    const addr = `root@${lab.host('broken').address}`;
    const good = lab.currentSystem('broken');
    const r = await tool(lab, ['nixos-rebuild', 'switch', '--flake', flakeRef(lab, 'broken'), '--target-host', addr]);
    expect(r.exitCode).toBe(0);
    expect(lab.currentSystem('broken')).not.toBe(good);
    const fresh = await lab.ssh('broken', ['true'], { timeoutMs: 15_000 });
    expect(fresh.exitCode).toBe(255);
    expect(fresh.stderr).toMatch(/Connection refused|timed out/);
    // What a watchdog on the host does: previous generation, its switch-to-configuration.
    const rb = await lab.exec('broken', ['sh', '-c', 'nix-env -p /nix/var/nix/profiles/system --rollback && /nix/var/nix/profiles/system/bin/switch-to-configuration switch']);
    expect(rb.exitCode).toBe(0);
    expect(lab.currentSystem('broken')).toBe(good);
    expect((await lab.ssh('broken', ['true'])).exitCode).toBe(0);
  }, T);

  it('reports the variants through exit codes 4, 100 and 1 (nothing changed on failure)', async () => {
    const addr = `root@${lab.host('web2').address}`;
    for (const [variant, code] of [
      ['units-fail', 4],
      ['needs-reboot', 100],
    ] as const) {
      lab.setVariant('web2', variant);
      const r = await tool(lab, ['nixos-rebuild', 'test', '--flake', flakeRef(lab, 'web2'), '--target-host', addr]);
      expect(r.exitCode).toBe(code);
      expect(lab.activations('web2').at(-1)).toMatchObject({ action: 'test', exitCode: code, variant });
    }
    const live = lab.currentSystem('web2');
    const gens = lab.generations('web2').length;
    lab.setVariant('web2', 'fails');
    const f = await tool(lab, ['nixos-rebuild', 'test', '--flake', flakeRef(lab, 'web2'), '--target-host', addr]);
    expect(f.exitCode).toBe(1);
    expect(lab.currentSystem('web2')).toBe(live);
    expect(lab.generations('web2')).toHaveLength(gens);
    lab.setVariant('web2', 'good');
  }, T);

  it('a reboot (the host`s own `reboot` command) comes up on the boot default with a new boot id', async () => {
    const addr = `root@${lab.host('web2').address}`;
    lab.setRevision(5);
    const { web2: next } = await lab.toplevels(['web2']);
    const b = await tool(lab, ['nixos-rebuild', 'boot', '--flake', flakeRef(lab, 'web2'), '--target-host', addr]);
    expect(b.exitCode).toBe(0);
    expect(lab.currentSystem('web2')).not.toBe(next);
    const id0 = (await lab.ssh('web2', ['cat', '/proc/sys/kernel/random/boot_id'])).stdout.trim();
    expect(id0).toBe(lab.bootId('web2'));
    await lab.ssh('web2', ['reboot']);
    await waitFor('a new boot id', () => (lab.bootId('web2') !== id0 && existsSync(join(lab.host('web2').dirs.lab, 'ready')) ? true : undefined));
    await lab.waitForSsh('web2');
    const id1 = (await lab.ssh('web2', ['cat', '/proc/sys/kernel/random/boot_id'])).stdout.trim();
    expect(id1).not.toBe(id0);
    expect(lab.currentSystem('web2')).toBe(next);
    expect(lab.bootedSystem('web2')).toBe(next);
    // lab.reboot does the same from this side; /run is cleared (no leftovers of the previous boot).
    await lab.ssh('web2', ['touch', '/run/leftover']);
    await lab.reboot('web2');
    await lab.waitForSsh('web2');
    expect(lab.bootId('web2')).not.toBe(id1);
    expect((await lab.ssh('web2', ['test', '-e', '/run/leftover'])).exitCode).toBe(1);
  }, T);

  it('injects faults: cut link, killed sshd, frozen sshd, full disk', async () => {
    const quick = { timeoutMs: 10_000 };
    await lab.cutLink('web2');
    expect((await lab.ssh('web2', ['true'], quick)).exitCode).toBe(255);
    await lab.restoreLink('web2');
    await lab.waitForSsh('web2');

    await lab.freeze('web2');
    expect((await lab.ssh('web2', ['true'], quick)).exitCode).not.toBe(0);
    await lab.thaw('web2');
    await lab.waitForSsh('web2');

    await lab.killSshd('web2');
    const refused = await lab.ssh('web2', ['true'], quick);
    expect(refused.exitCode).toBe(255);
    expect(refused.stderr).toMatch(/Connection refused/);
    await lab.reboot('web2');
    await lab.waitForSsh('web2');

    await lab.fillDisk('web2');
    lab.setRevision(6);
    const addr = `root@${lab.host('web2').address}`;
    const full = await tool(lab, ['nixos-rebuild', 'switch', '--flake', flakeRef(lab, 'web2'), '--target-host', addr]);
    expect(full.exitCode).not.toBe(0);
    // Nix reports the full store disk as an SQLite I/O error or ENOSPC, depending on where it hits.
    expect(full.stderr).toMatch(/No space left on device|disk I\/O error/);
    await lab.freeDisk('web2');
    const ok = await tool(lab, ['nixos-rebuild', 'switch', '--flake', flakeRef(lab, 'web2'), '--target-host', addr]);
    expect(ok.exitCode).toBe(0);
  }, T);

  it('lets the non-root deploy user in, with passwordless sudo and nixos-rebuild --sudo', async () => {
    const who = await lab.ssh('web1', ['sudo', '-n', 'id', '-u'], { user: 'deploy' });
    expect(who.exitCode).toBe(0);
    expect(who.stdout.trim()).toBe('0');
    lab.setRevision(7);
    const { web1: p } = await lab.toplevels(['web1']);
    const r = await tool(lab, ['nixos-rebuild', 'switch', '--flake', flakeRef(lab, 'web1'), '--sudo', '--target-host', `deploy@${lab.host('web1').address}`]);
    expect(r.exitCode).toBe(0);
    expect(lab.currentSystem('web1')).toBe(p);
  }, T);

  it('checks argv like the real tools', async () => {
    const unknown = await tool(lab, ['nixos-rebuild', 'switch', '--frobnicate']);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toMatch(/^usage: nixos-rebuild /);
    expect(unknown.stderr).toMatch(/\nnixos-rebuild: error: unrecognized arguments: --frobnicate\n$/);
    const anyUnknown = await tool(lab, ['nixos-anywhere', '--frobnicate']);
    expect(anyUnknown.exitCode).not.toBe(0);
    const flake = await tool(lab, ['nixos-anywhere', '--flake', `${lab.flakeDir}#fresh`, 'root@10.0.0.1']);
    expect(flake.exitCode).not.toBe(0);
    expect(flake.stderr).toMatch(/newer Nix/);
    // The bash flavour with --fast and --use-remote-sudo still deploys.
    const addr = `root@${lab.host('web1').address}`;
    const old = await tool(lab, ['nixos-rebuild', 'test', '--fast', '--use-remote-sudo', '--flake', flakeRef(lab, 'web1'), '--target-host', addr], {
      FLEET_LAB_REBUILD_FLAVOUR: 'bash',
    });
    expect(old.exitCode).toBe(0);
  }, T);

  describe('the real tools` failure modes', () => {
    const bash = { FLEET_LAB_REBUILD_FLAVOUR: 'bash' };
    const ngOld = { FLEET_LAB_REBUILD_FLAVOUR: 'ng-old' };
    const rebuild = join(labBinDir, 'nixos-rebuild');

    it('bash: --help is `exec man nixos-rebuild`: no man page here, so man`s message and exit 16; -h is unknown', async () => {
      const help = await tool(lab, ['nixos-rebuild', '--help'], bash);
      expect(help).toEqual({ exitCode: 16, stdout: '', stderr: 'No manual entry for nixos-rebuild\n' });
      const noAction = await tool(lab, ['nixos-rebuild', '--fast'], bash);
      expect(noAction).toEqual({ exitCode: 16, stdout: '', stderr: 'No manual entry for nixos-rebuild\n' });
      const h = await tool(lab, ['nixos-rebuild', '-h'], bash);
      expect(h).toEqual({ exitCode: 1, stdout: '', stderr: `${rebuild}: unknown option \`-h'\n` });
    }, T);

    it('bash: --store-path (with or without a value) is an unknown option, exit 1', async () => {
      const probe = await tool(lab, ['nixos-rebuild', '--store-path'], bash);
      expect(probe).toEqual({ exitCode: 1, stdout: '', stderr: `${rebuild}: unknown option \`--store-path'\n` });
      const deploy = await tool(lab, ['nixos-rebuild', 'switch', '--store-path', '/nix/store/x', '--target-host', 'root@192.0.2.1'], bash);
      expect(deploy).toEqual({ exitCode: 1, stdout: '', stderr: `${rebuild}: unknown option \`--store-path'\n` });
      for (const ngOnly of ['--sudo', '--no-reexec', '--ask-sudo-password']) {
        expect((await tool(lab, ['nixos-rebuild', 'switch', ngOnly], bash)).stderr).toBe(`${rebuild}: unknown option \`${ngOnly}'\n`);
      }
    }, T);

    it('ng: --store-path without a value is argparse`s "expected one argument" (exit 2); --help is man 8', async () => {
      const probe = await tool(lab, ['nixos-rebuild', '--store-path']);
      expect(probe.exitCode).toBe(2);
      expect(probe.stdout).toBe('');
      const lines = probe.stderr.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^usage: nixos-rebuild \[--verbose\] /);
      expect(probe.stderr).toContain('[--store-path STORE_PATH]');
      expect(lines.at(-1)).toBe('nixos-rebuild: error: argument --store-path: expected one argument');
      const help = await tool(lab, ['nixos-rebuild', '--help']);
      expect(help).toEqual({ exitCode: 16, stdout: '', stderr: 'No manual entry for nixos-rebuild in section 8\n' });
      expect((await tool(lab, ['nixos-rebuild', '-h'])).exitCode).toBe(16);
    }, T);

    it('ng-old (before --store-path): argparse`s "unrecognized arguments: --store-path …", exit 2, nothing deployed', async () => {
      const probe = await tool(lab, ['nixos-rebuild', '--store-path'], ngOld);
      expect(probe.exitCode).toBe(2);
      expect(probe.stderr).toMatch(/^usage: nixos-rebuild \[--verbose\] /);
      expect(probe.stderr).not.toContain('STORE_PATH');
      expect(probe.stderr.trimEnd().split('\n').at(-1)).toBe('nixos-rebuild: error: unrecognized arguments: --store-path');
      const web1 = lab.host('web1');
      const live = lab.currentSystem('web1');
      const { web1: p } = await lab.toplevels(['web1']);
      const deploy = await tool(lab, ['nixos-rebuild', 'switch', '--store-path', p!, '--no-reexec', '--target-host', `root@${web1.address}`], ngOld);
      expect(deploy.exitCode).toBe(2);
      expect(deploy.stderr.trimEnd().split('\n').at(-1)).toBe(`nixos-rebuild: error: unrecognized arguments: --store-path ${p}`);
      expect(lab.currentSystem('web1')).toBe(live);
      // Its --help is man 8 as well.
      expect(await tool(lab, ['nixos-rebuild', '--help'], ngOld)).toEqual({ exitCode: 16, stdout: '', stderr: 'No manual entry for nixos-rebuild in section 8\n' });
    }, T);

    it('bash: re-execs unless --fast (a flake without config.system.build.nixos-rebuild fails), and any activation failure is exit 1', async () => {
      const addr = `root@${lab.host('web2').address}`;
      const live = lab.currentSystem('web2');
      const reexec = await tool(lab, ['nixos-rebuild', 'switch', '--flake', flakeRef(lab, 'web2'), '--target-host', addr], bash);
      expect(reexec.exitCode).toBe(1);
      expect(reexec.stderr).toMatch(/nixos-rebuild/);
      expect(lab.currentSystem('web2')).toBe(live);
      lab.setVariant('web2', 'units-fail');
      try {
        const r = await tool(lab, ['nixos-rebuild', 'test', '--fast', '--flake', flakeRef(lab, 'web2'), '--target-host', addr], bash);
        expect(r.exitCode).toBe(1);
        expect(r.stderr).toContain('warning: error(s) occurred while switching to the new configuration');
        expect(lab.activations('web2').at(-1)).toMatchObject({ action: 'test', exitCode: 4, variant: 'units-fail' });
        // The bash one has no nixos-version check and no systemd on the lab host: systemd-run probe, then env -i.
        const inv = lab.toolLog().filter((i) => i.tool === 'nixos-rebuild').at(-1)!;
        expect(inv.steps.map((s) => (s.step === 'ssh' ? `ssh:${s.argv[1]}` : s.step))).toEqual(['build', 'copy', 'ssh:systemd-run', 'ssh:env']);
      } finally {
        lab.setVariant('web2', 'good');
      }
    }, T);

    it('nixos-anywhere: --build-on auto (the default) runs this machine`s `nix config show system` first and stops with its error', async () => {
      const fresh = lab.host('fresh');
      const [disko, system] = await lab.build([lab.installable('fresh', 'diskoScript'), lab.installable('fresh')]);
      const nix = spawnSync('nix', ['--extra-experimental-features', 'nix-command flakes', 'config', 'show', 'system'], { encoding: 'utf8' });
      // The lab runs on Debian's Nix 2.8, which has no `nix config`.
      expect(nix.status).not.toBe(0);
      expect(nix.stderr).toContain("error: 'config' is not a recognised command");
      const before = lab.toolLog().length;
      for (const buildOn of [[], ['--build-on', 'auto']]) {
        const r = await tool(lab, [
          'nixos-anywhere', '-s', disko!, system!, '--phases', 'disko,install,reboot', ...buildOn,
          '--target-host', `root@${fresh.address}`, '-i', lab.clientKey,
        ]);
        expect(r.exitCode).toBe(nix.status);
        expect(r.stderr).toBe(nix.stderr);
        expect(r.stdout).toBe('');
      }
      // Nothing reached the host.
      expect(lab.toolLog().slice(before).flatMap((i) => i.steps.map((s) => s.step))).toEqual(['nix-config-show', 'nix-config-show']);
      expect(lab.diskFiles('fresh')).toContain('data/old-os.txt');
    }, T);
  });

  it('nixos-anywhere refuses kexec and bootstraps a bare host (disk wiped, installed, reachable)', async () => {
    const fresh = lab.host('fresh');
    const [disko, system] = await lab.build([lab.installable('fresh', 'diskoScript'), lab.installable('fresh')]);
    const base = ['nixos-anywhere', '-s', disko!, system!, '--build-on', 'local', '--target-host', `root@${fresh.address}`, '-i', lab.clientKey];

    const kexec = await tool(lab, base);
    expect(kexec.exitCode).not.toBe(0);
    expect(kexec.stderr).toMatch(/kexec/);
    expect(lab.diskFiles('fresh')).toContain('data/old-os.txt');

    const extra = join(lab.dir, 'extra');
    mkdirSync(join(extra, 'persist'), { recursive: true });
    writeFileSync(join(extra, 'persist', 'hello'), 'from extra-files\n');
    const r = await tool(lab, [...base, '--phases', 'disko,install,reboot', '--copy-host-keys', '--extra-files', extra]);
    expect(r.stdout).toContain('disko: destroying');
    expect(r.exitCode).toBe(0);
    expect(lab.diskFiles('fresh')).not.toContain('data/old-os.txt');
    expect(lab.diskFiles('fresh')).toContain('persist/hello');
    await waitFor('the installed system', () => (lab.currentSystem('fresh') === system ? true : undefined));
    // --copy-host-keys kept its identity: the pinned key still verifies.
    await lab.waitForSsh('fresh');
    expect((await lab.ssh('fresh', ['test', '-e', '/etc/NIXOS'])).exitCode).toBe(0);
    expect(lab.bootedSystem('fresh')).toBe(system);
    expect(lab.generations('fresh')).toHaveLength(1);
    expect(lab.currentHostPublicKey('fresh')).toBe(fresh.hostPublicKey);
    const inv = lab.toolLog().filter((i) => i.tool === 'nixos-anywhere').at(-1)!;
    // Same order of remote operations as the real tool: disko script copied and run, system copied into
    // /mnt, extra files, host keys, nixos-install, reboot.
    const labels = inv.steps.map((s) => (s.step === 'ssh' ? `ssh:${s.argv[1]}` : s.step));
    const order = ['copy', `ssh:${disko}`, 'copy', 'extra-files', 'ssh:nixos-install'];
    let at = -1;
    for (const want of order) {
      const next = labels.indexOf(want, at + 1);
      expect(next, `${want} after position ${at} in ${labels.join(', ')}`).toBeGreaterThan(at);
      at = next;
    }
    expect(labels.indexOf('ssh:sh', at)).toBeGreaterThan(at); // the reboot
    // Its own UserKnownHostsFile=/dev/null: real ssh warns on every connection (its ssh calls and nix copy's).
    const warning = `Warning: Permanently added '${fresh.address}' (ED25519) to the list of known hosts.`;
    const warnings = r.stderr.split('\n').filter((l) => l.trim() === warning).length;
    // Every connection up to the reboot command succeeds (the waits after it may find the host down).
    const reboot = labels.indexOf('ssh:sh', at);
    const connections = inv.steps.slice(0, reboot + 1).filter((s) => ['ssh', 'copy', 'extra-files'].includes(s.step)).length;
    expect(connections).toBeGreaterThan(5);
    expect(warnings).toBeGreaterThanOrEqual(connections);
  }, T);
});

describe('lab teardown', () => {
  it('two labs coexist, and after stop no namespace, link, process, mount or directory is left', async () => {
    const pre = checkLabPrerequisites();
    if (!pre.ok) throw new Error(pre.explanation);
    const [a, b] = await Promise.all([
      startLab({ hosts: [{ name: 'one', state: 'installed' }] }),
      startLab({ hosts: [{ name: 'one', state: 'bare' }] }),
    ]);
    try {
      expect(a.prefix).not.toBe(b.prefix);
      expect(a.host('one').address).not.toBe(b.host('one').address);
      expect((await a.ssh('one', ['true'])).exitCode).toBe(0);
      expect((await b.ssh('one', ['true'])).exitCode).toBe(0);
      const traces = labTraces(a.prefix);
      expect(traces.netns.length).toBe(1);
      expect(traces.procs.length).toBeGreaterThan(0);
    } finally {
      await a.stop();
    }
    const gone = labTraces(a.prefix);
    expect(gone).toEqual({ netns: [], links: [], mounts: [], procs: [], dir: false });
    expect((await b.ssh('one', ['true'])).exitCode).toBe(0);
    await b.stop();
    expect(labTraces(b.prefix)).toEqual({ netns: [], links: [], mounts: [], procs: [], dir: false });
  }, T);
});
