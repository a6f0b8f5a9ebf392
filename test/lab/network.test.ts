// Proves the lab's network shape (issue 21) with real processes: a host substitutes the shared
// payload from the lab binary cache through `nix copy --substitute-on-destination` and falls back
// to the upload when the cache is down; the uplink cap limits what this machine sends and its
// counter sees every byte of it but none of the cache's; the delaying ProxyCommand adds round-trip
// time to the lab's ssh, nix copy's and fleet's connections.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readReport, runFleet, writeLabManifest } from './fleet-harness.js';
import { checkLabPrerequisites, startLab, type Lab } from './lab.js';

const T = 180_000;
const MiB = 1024 * 1024;

interface Timed {
  exitCode: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs a command with the lab's environment (no substituters here, NIX_SSHOPTS = the lab's ssh options). */
function timed(lab: Lab, argv: string[], input?: Buffer): Promise<Timed> {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(argv[0]!, argv.slice(1), {
      env: { ...process.env, ...lab.env, NIX_SSHOPTS: lab.sshOptionsString },
      stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    if (input) child.stdin!.end(input);
    child.on('close', (code) => resolve({ exitCode: code ?? 128, stdout, stderr, ms: performance.now() - started }));
  });
}

const nixCopy = (lab: Lab, host: string, path: string) =>
  timed(lab, ['nix', '--extra-experimental-features', 'nix-command flakes', 'copy', '--substitute-on-destination', '--to', `ssh://root@${lab.host(host).address}`, path]);

describe('the lab network: binary cache, uplink cap', () => {
  let lab: Lab;
  const sharedMiB = 8;
  const hostKiB = 256;

  beforeAll(async () => {
    const pre = checkLabPrerequisites();
    if (!pre.ok) throw new Error(pre.explanation);
    lab = await startLab({
      hosts: [
        { name: 'near', state: 'installed' },
        { name: 'far', state: 'installed' },
      ],
      cache: true,
      uplinkMbit: 40,
      payload: { sharedMiB, hostKiB, seed: 'net1' },
    });
  }, T);

  afterAll(async () => {
    await lab?.stop();
  }, T);

  it('gives every host the shared payload and a path of its own, the shared one deterministic for its seed', async () => {
    const shared = lab.sharedPayload()!;
    expect(shared).toMatch(/^\/nix\/store\/[a-z0-9]{32}-lab-shared-payload-net1-8m$/);
    expect(statSync(shared).size).toBe(sharedMiB * MiB);
    const tops = await lab.toplevels();
    for (const top of Object.values(tops)) expect(readFileSync(join(top, 'payload-shared')).length).toBe(sharedMiB * MiB);
    expect(statSync(join(tops.near!, 'payload-host')).size).toBe(hostKiB * 1024);
    expect(join(tops.near!, 'payload-host')).not.toBe(join(tops.far!, 'payload-host'));
    // The same seed gives the same bytes (and path) again; AES-CTR output does not compress.
    const digest = createHash('sha256').update(readFileSync(shared)).digest('hex');
    await lab.setPayload({ sharedMiB, hostKiB, seed: 'net1' });
    expect(lab.sharedPayload()).toBe(shared);
    expect(createHash('sha256').update(readFileSync(shared)).digest('hex')).toBe(digest);
    await lab.setPayload({ sharedMiB, hostKiB, seed: 'net2' });
    expect(lab.sharedPayload()).not.toBe(shared);
    await lab.setPayload({ sharedMiB, hostKiB, seed: 'net1' });
  }, T);

  it('a host substitutes the shared path from the lab cache: the deploying machine sends only the rest', async () => {
    const shared = lab.sharedPayload()!;
    const top = (await lab.toplevels(['near'])).near!;
    await lab.cache!.add([shared]);
    expect(lab.cache!.has(shared)).toBe(true);
    expect(lab.cache!.has(top)).toBe(false);
    const before = lab.uplinkBytes();
    const copy = await nixCopy(lab, 'near', top);
    const sent = lab.uplinkBytes() - before;
    expect(copy.stderr).not.toMatch(/error/i);
    expect(copy.exitCode).toBe(0);
    expect(lab.storePaths('near')).toContain(shared);
    expect(lab.storePaths('near')).toContain(top);
    // The host's own path went through the uplink, the shared one did not.
    expect(sent).toBeGreaterThan(hostKiB * 1024);
    expect(sent).toBeLessThan(sharedMiB * MiB * 0.25);
    // The host fetched it from the cache itself, over HTTP, the whole NAR.
    const fetched = lab.cache!.requests().filter((r) => r.remote.endsWith(lab.host('near').address) && r.method === 'GET' && r.path.startsWith('/nar/'));
    expect(fetched.reduce((sum, r) => sum + r.bytes, 0)).toBeGreaterThanOrEqual(sharedMiB * MiB);
  }, T);

  it('with the cache down the copy still succeeds: the host gets everything uploaded', async () => {
    const shared = lab.sharedPayload()!;
    const top = (await lab.toplevels(['far'])).far!;
    await lab.cache!.stop();
    try {
      const before = lab.uplinkBytes();
      const copy = await nixCopy(lab, 'far', top);
      const sent = lab.uplinkBytes() - before;
      expect(copy.exitCode, copy.stderr).toBe(0);
      expect(lab.storePaths('far')).toContain(shared);
      expect(lab.storePaths('far')).toContain(top);
      expect(sent).toBeGreaterThan(sharedMiB * MiB);
    } finally {
      await lab.cache!.start();
    }
  }, T);

  it('a push to the cache crosses the uplink, signed: another host then substitutes it', async () => {
    await lab.setPayload({ sharedMiB, hostKiB, seed: 'net3' });
    const shared = lab.sharedPayload()!;
    const before = lab.uplinkBytes();
    const push = await timed(lab, ['nix', '--extra-experimental-features', 'nix-command flakes', 'copy', '--to', lab.cache!.pushUrl, shared]);
    expect(push.exitCode, push.stderr).toBe(0);
    expect(lab.uplinkBytes() - before).toBeGreaterThan(sharedMiB * MiB);
    expect(lab.cache!.has(shared)).toBe(true);
    expect(readFileSync(join(lab.cache!.dir, `${shared.slice(11, 43)}.narinfo`), 'utf8')).toMatch(new RegExp(`^Sig: ${lab.cache!.publicKey.split(':')[0]}:`, 'm'));
    const top = (await lab.toplevels(['far'])).far!;
    const sentBefore = lab.uplinkBytes();
    const copy = await nixCopy(lab, 'far', top);
    expect(copy.exitCode, copy.stderr).toBe(0);
    expect(lab.storePaths('far')).toContain(shared);
    expect(lab.uplinkBytes() - sentBefore).toBeLessThan(sharedMiB * MiB * 0.25);
  }, T);

  it('the uplink cap limits what this machine sends: 4 MiB at 40 Mbit/s take about 0.8 s', async () => {
    const data = Buffer.alloc(4 * MiB, 7);
    const before = lab.uplinkBytes();
    const r = await timed(lab, ['ssh', ...lab.sshOptions, `root@${lab.host('near').address}`, 'cat >/dev/null'], data);
    const sent = lab.uplinkBytes() - before;
    expect(r.exitCode, r.stderr).toBe(0);
    expect(sent).toBeGreaterThan(4 * MiB);
    // 4 MiB × 8 / 40 Mbit/s = 0.84 s; a generous floor, as behaviour and not a speed goal.
    expect(r.ms).toBeGreaterThan(600);
    // Lifted, the same transfer is not held back by it.
    await lab.setUplink(null);
    try {
      const free = await timed(lab, ['ssh', ...lab.sshOptions, `root@${lab.host('near').address}`, 'cat >/dev/null'], Buffer.alloc(16 * MiB, 7));
      expect(free.exitCode, free.stderr).toBe(0);
      expect(free.ms).toBeLessThan(16 * 8 * 1000 / 40);
    } finally {
      await lab.setUplink(40);
    }
  }, T);

  it('leaves nothing behind: bridge, cache namespace and server, host links', async () => {
    const { prefix, dir } = lab;
    const cacheServer = lab.cache!.dir;
    await lab.stop();
    const out = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: 'utf8' }).stdout;
    expect(out('ip', ['netns', 'list']).split('\n').filter((l) => l.startsWith(`fleet-${prefix}-`))).toEqual([]);
    expect(out('ip', ['-o', 'link']).split('\n').filter((l) => l.includes(`fb-${prefix}`) || l.includes(`fl-${prefix}-`))).toEqual([]);
    expect(out('ps', ['-eo', 'args']).split('\n').filter((l) => l.includes(cacheServer))).toEqual([]);
    expect(existsSync(dir)).toBe(false);
  }, T);
});

describe('the lab network: round-trip time', () => {
  let lab: Lab;
  let plain: Lab;
  const rttMs = 100;
  const dir = mkdtempSync(join(tmpdir(), 'fleet-net-'));

  beforeAll(async () => {
    [lab, plain] = await Promise.all([
      startLab({ hosts: [{ name: 'remote', state: 'installed' }], rttMs }),
      startLab({ hosts: [{ name: 'local', state: 'installed' }] }),
    ]);
  }, T);

  afterAll(async () => {
    await Promise.all([lab?.stop(), plain?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  }, T);

  it('an ssh command pays the added round trips', async () => {
    const address = lab.host('remote').address;
    const before = lab.rttConnections()[address] ?? 0;
    const delayed = await timed(lab, ['ssh', ...lab.sshOptions, `root@${address}`, 'true']);
    const direct = await timed(plain, ['ssh', ...plain.sshOptions, `root@${plain.host('local').address}`, 'true']);
    expect(delayed.exitCode, delayed.stderr).toBe(0);
    expect(direct.exitCode, direct.stderr).toBe(0);
    expect(lab.rttConnections()[address]).toBe(before + 1);
    // An ssh connection and command take at least four round trips (key exchange, auth, channel, exit).
    expect(delayed.ms).toBeGreaterThan(4 * rttMs);
    expect(delayed.ms - direct.ms).toBeGreaterThan(3 * rttMs);
    // The ssh config carries it too.
    const viaConfig = await timed(lab, ['ssh', '-F', lab.sshConfig, 'remote', 'true']);
    expect(viaConfig.exitCode, viaConfig.stderr).toBe(0);
    expect(lab.rttConnections()[address]).toBe(before + 2);
  }, T);

  it("nix copy's ssh (NIX_SSHOPTS) goes through the delay", async () => {
    const address = lab.host('remote').address;
    lab.setRevision(7);
    const top = (await lab.toplevels(['remote'])).remote!;
    const before = lab.rttConnections()[address] ?? 0;
    const copy = await nixCopy(lab, 'remote', top);
    expect(copy.exitCode, copy.stderr).toBe(0);
    expect(lab.storePaths('remote')).toContain(top);
    expect(lab.rttConnections()[address]).toBeGreaterThan(before);
    expect(copy.ms).toBeGreaterThan(4 * rttMs);
  }, T);

  it("every connection fleet opens goes through it (the manifest's ssh.options)", async () => {
    const address = lab.host('remote').address;
    const accepted = () => readFileSync(join(lab.host('remote').dirs.lab, 'sshd.log'), 'utf8').split('\n').filter((l) => l.includes('Accepted publickey for ')).length;
    lab.setRevision(8);
    const manifest = writeLabManifest(lab, dir, [{ name: 'remote' }]);
    expect(readFileSync(manifest, 'utf8')).toContain(`ProxyCommand=${lab.dir}/rtt/%h`);
    const viaProxy = lab.rttConnections()[address] ?? 0;
    const acceptedBefore = accepted();
    const report = join(dir, 'report.json');
    const run = await runFleet(lab, ['apply', '-f', manifest, '--report', report]);
    expect(run.code, run.stderr + run.stdout).toBe(0);
    expect(readReport(report).hosts[0]!.outcome).toBe('changed');
    const connections = accepted() - acceptedBefore;
    expect(connections).toBeGreaterThanOrEqual(2);
    expect((lab.rttConnections()[address] ?? 0) - viaProxy).toBe(connections);
  }, T);
});
