// A host reached only through a jump host, against real lab hosts: `inner` has an address (IPv6, on
// a link it shares with `bastion` alone) that this machine cannot reach; fleet deploys it through
// `bastion`, every connection (lock, copy, activation, the fresh confirmation) going through the
// bastion's sshd with fleet's own settings for the hop (pinned key, identity, BatchMode).
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from './lab.js';
import { hostOf, readReport, runFleet, writeLabManifest } from './fleet-harness.js';

/** `Accepted publickey for <user> from <address>` lines of a lab host's sshd log since `from` (a line count). */
function acceptedFrom(lab: Lab, host: string, from = 0): string[] {
  const log = readFileSync(join(lab.host(host).dirs.lab, 'sshd.log'), 'utf8').split('\n').slice(from);
  return log.flatMap((line) => {
    const match = /Accepted publickey for \S+ from (\S+) port/.exec(line);
    return match ? [match[1]!] : [];
  });
}

function logLength(lab: Lab, host: string): number {
  return readFileSync(join(lab.host(host).dirs.lab, 'sshd.log'), 'utf8').split('\n').length - 1;
}

describe('a host behind a jump host (lab)', () => {
  let lab: Lab;
  let dir: string;
  let manifest: string;
  // A link of bastion's and inner's own, with addresses nothing else has a route to.
  const net = `fd${randomBytes(1).toString('hex')}:${randomBytes(2).toString('hex')}`;
  const bastionSide = `${net}::1`;
  const innerSide = `${net}::2`;

  beforeAll(async () => {
    lab = await startLab({ hosts: [{ name: 'bastion', state: 'installed' }, { name: 'inner', state: 'installed' }] });
    const [b, i] = [lab.host('bastion').netns, lab.host('inner').netns];
    const [bl, il] = [`fj-${lab.prefix}-b`, `fj-${lab.prefix}-i`];
    // Created in the two namespaces directly (none of it in this machine's); removed with them.
    execFileSync('ip', ['link', 'add', bl, 'netns', b, 'type', 'veth', 'peer', 'name', il, 'netns', i]);
    execFileSync('ip', ['-n', b, 'link', 'set', bl, 'up']);
    execFileSync('ip', ['-n', i, 'link', 'set', il, 'up']);
    execFileSync('ip', ['-n', b, 'addr', 'add', `${bastionSide}/64`, 'dev', bl, 'nodad']);
    execFileSync('ip', ['-n', i, 'addr', 'add', `${innerSide}/64`, 'dev', il, 'nodad']);
    dir = mkdtempSync(join(tmpdir(), 'fleet-bastion-'));
    manifest = writeLabManifest(lab, dir, [
      {
        name: 'inner',
        extra: {
          target: `root@[${innerSide}]:22`,
          jump: { target: `root@${lab.host('bastion').address}`, hostKey: lab.host('bastion').hostPublicKey },
        },
      },
    ]);
  });

  afterAll(async () => {
    await lab?.stop();
  });

  it('cannot reach the inner address from this machine, only from the bastion', async () => {
    const direct = spawnSync('ssh', [...lab.sshOptions, '-o', 'ConnectTimeout=3', `root@${innerSide}`, 'true'], { encoding: 'utf8' });
    expect(direct.status).toBe(255);
    expect(direct.stderr).toMatch(/Network is unreachable|No route to host|timed out/);
    // From the bastion's namespace the inner host answers (its host key, as ssh-keyscan reads it).
    const fromBastion = await lab.exec('bastion', ['ssh-keyscan', '-T', '5', '-t', 'ed25519', innerSide]);
    expect(fromBastion.stdout).toContain(lab.host('inner').hostPublicKey);
  });

  it('plans every connection through the jump host', async () => {
    const plan = await runFleet(lab, ['plan', '-f', manifest]);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(new RegExp(`host inner  switch on root@${innerSide.replace(/\./g, '\\.')} via root@${lab.host('bastion').address.replace(/\./g, '\\.')} \\(jump host; its settings in \\S+/jump-[0-9a-f]{12}\\.conf, given to every ssh with -F\\)`));
    expect(plan.stdout).toMatch(new RegExp(`nix --extra-experimental-features 'nix-command flakes' copy --substitute-on-destination --to 'ssh://root@\\[${innerSide}\\]' <toplevel>`));
  });

  it('deploys through the bastion: the target sees connections from the bastion only, the bastion from this machine', async () => {
    lab.setRevision(2);
    const wanted = (await lab.toplevels(['inner'])).inner!;
    const [bastionFrom, innerFrom] = [logLength(lab, 'bastion'), logLength(lab, 'inner')];
    const report = join(dir, 'report.json');
    const run = await runFleet(lab, ['apply', '-f', manifest, '--report', report]);
    expect(run.stderr).toBe('');
    expect(run.code, run.stdout).toBe(0);
    expect(hostOf(readReport(report), 'inner').outcome).toBe('changed');
    expect(lab.currentSystem('inner')).toBe(wanted);
    expect(lab.bootDefault('inner')).toBe(wanted);
    // The copy went through too: the closure is in inner's store.
    expect(lab.storePaths('inner')).toContain(wanted);

    const atInner = acceptedFrom(lab, 'inner', innerFrom);
    const atBastion = acceptedFrom(lab, 'bastion', bastionFrom);
    // The shared connection (lock, copy, activation) and the fresh one that confirms the watchdog.
    expect(atInner.length).toBeGreaterThanOrEqual(2);
    expect(new Set(atInner)).toEqual(new Set([bastionSide]));
    expect(atBastion.length).toBe(atInner.length);
    // This machine's end of the bastion's link: the address below the bastion's.
    const [a, b, c, d] = lab.host('bastion').address.split('.').map(Number);
    expect(new Set(atBastion)).toEqual(new Set([`${a}.${b}.${c}.${d! - 1}`]));
  });

  it('operates through it too (status, exec)', async () => {
    const status = await runFleet(lab, ['status', '-f', manifest, '--json']);
    expect(status.code, status.stderr).toBe(0);
    expect((JSON.parse(status.stdout) as { hosts: { verdict: string }[] }).hosts[0]!.verdict).toBe('up-to-date');
    const exec = await runFleet(lab, ['exec', '-f', manifest, 'inner', '--', 'cat', '/proc/sys/kernel/hostname']);
    expect(exec.code, exec.stdout + exec.stderr).toBe(0);
  });

  it('takes a ProxyJump in ssh.options the same way, the bastion (a host of the manifest) pinned and reached directly', async () => {
    lab.setRevision(3);
    const wanted = await lab.toplevels(['bastion', 'inner']);
    const innerFrom = logLength(lab, 'inner');
    const viaOptions = writeLabManifest(lab, join(dir, 'options'), [{ name: 'bastion' }, { name: 'inner', extra: { target: `root@[${innerSide}]` } }], {
      ssh: { options: [`ProxyJump=root@${lab.host('bastion').address}`] },
    });
    const plan = await runFleet(lab, ['plan', '-f', viaOptions]);
    expect(plan.stdout).toMatch(new RegExp(`host bastion  switch on root@${lab.host('bastion').address.replace(/\./g, '\\.')}\n`));
    expect(plan.stdout).toMatch(/host inner  switch on root@\S+ via root@/);
    const run = await runFleet(lab, ['apply', '-f', viaOptions]);
    expect(run.stderr).toBe('');
    expect(run.code, run.stdout).toBe(0);
    expect(lab.currentSystem('bastion')).toBe(wanted.bastion);
    expect(lab.currentSystem('inner')).toBe(wanted.inner);
    expect(new Set(acceptedFrom(lab, 'inner', innerFrom))).toEqual(new Set([bastionSide]));
  });

  it('fails clearly, and alone, when the jump host\'s key is not the pinned one', async () => {
    const wrong = writeLabManifest(lab, join(dir, 'wrong'), [
      {
        name: 'inner',
        extra: { target: `root@[${innerSide}]`, jump: { target: `root@${lab.host('bastion').address}`, hostKey: lab.host('inner').hostPublicKey } },
      },
    ]);
    const report = join(dir, 'wrong.json');
    const run = await runFleet(lab, ['apply', '-f', wrong, '--report', report]);
    expect(run.code).toBe(1);
    const host = hostOf(readReport(report), 'inner');
    expect(host.outcome).toBe('unreachable');
    expect(host.reason).toMatch(/^cannot reach the host: ssh failed: the jump host closed the connection \(Connection closed by UNKNOWN port 65535\): it refused fleet \(its host key, the identity\)/);
    expect(host.reason).toMatch(/try ssh -F <the jump host's config, in fleet plan> fleet-jump true$/);
  });
});
