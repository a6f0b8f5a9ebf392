// Closures by the shortest path, with fleet against real lab hosts and the lab's binary cache:
// targets substitute what the cache has (this machine sends only the rest), a target whose cache
// is down still gets everything uploaded, --no-substitutes uploads all, and cache.push sends each
// path once however many hosts run it (a failed push warns and the hosts get the upload).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from './lab.js';
import { hostOf, readReport, runFleet, writeLabManifest, type Report } from './fleet-harness.js';

const T = 240_000;
const MiB = 1024 * 1024;
const HOSTS = ['s1', 's2'];
const sharedMiB = 8;
const hostKiB = 256;

describe('closures by the shortest path, with the lab cache', () => {
  let lab: Lab;
  let dir: string;
  let revision = 21_000_000 + Math.floor(Math.random() * 1_000_000);
  let seed = 0;
  // A payload seed of this file's own per run: a "new kernel" no other lab has.
  const tag = Math.random().toString(36).slice(2, 8);

  beforeAll(async () => {
    lab = await startLab({ hosts: HOSTS.map((name) => ({ name, state: 'installed' as const })), cache: true, payload: { sharedMiB, hostKiB, seed: `${tag}0` } });
    dir = mkdtempSync(join(tmpdir(), 'fleet-subst-'));
  }, T);

  afterAll(async () => {
    await lab?.stop();
  }, T);

  /** New systems for every host: a new revision (new per-host paths) and a new shared payload. */
  const nextSystems = async () => {
    lab.setRevision(++revision);
    await lab.setPayload({ sharedMiB, hostKiB, seed: `${tag}${++seed}` });
    return lab.sharedPayload()!;
  };

  const apply = async (name: string, args: string[] = [], top: Record<string, unknown> = {}) => {
    const path = writeLabManifest(lab, join(dir, name), HOSTS.map((h) => ({ name: h })), { rebuildFlavour: 'bash', ...top });
    const report = join(dir, name, 'report.json');
    const before = lab.uplinkBytes();
    const run = await runFleet(lab, ['apply', '-f', path, '--report', report, ...args]);
    const sent = lab.uplinkBytes() - before;
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const json: Report = readReport(report);
    expect(json.hosts.map((h) => h.outcome)).toEqual(['changed', 'changed']);
    return { run, json, sent, path };
  };

  it('by default the targets substitute the shared path from their cache: this machine sends only their own parts', async () => {
    const shared = await nextSystems();
    await lab.cache!.add([shared]);
    const wanted = await lab.toplevels(HOSTS);
    const plan = await runFleet(lab, ['plan', '-f', writeLabManifest(lab, join(dir, 'plan'), HOSTS.map((h) => ({ name: h })), { rebuildFlavour: 'bash' }), '--json']);
    const copyArgv = (JSON.parse(plan.stdout) as { hosts: { deploy: { copy: { argv: unknown[] } } }[] }).hosts[0]!.deploy.copy.argv;
    expect(copyArgv).toContain('--substitute-on-destination');
    const { json, sent } = await apply('default');
    for (const h of HOSTS) {
      expect(lab.currentSystem(h)).toBe(wanted[h]);
      expect(lab.storePaths(h)).toContain(shared);
      // What the report says the copy sent: the host's own paths, never the shared one.
      const uploaded = hostOf(json, h).uploaded!;
      expect(uploaded.bytes).toBeGreaterThanOrEqual(hostKiB * 1024);
      expect(uploaded.bytes).toBeLessThan(sharedMiB * MiB);
    }
    // And what crossed the link: both hosts' own parts and the protocol, far below one shared path.
    expect(sent).toBeLessThan(sharedMiB * MiB * 0.5);
    const fetched = lab.cache!.requests().filter((r) => r.method === 'GET' && r.path.startsWith('/nar/'));
    for (const h of HOSTS) expect(fetched.filter((r) => r.remote.endsWith(lab.host(h).address)).length, h).toBeGreaterThan(0);
  }, T);

  it('with the cache down, the copies fall back to the upload and every host still gets its closure', async () => {
    const shared = await nextSystems();
    await lab.cache!.add([shared]);
    const wanted = await lab.toplevels(HOSTS);
    await lab.cache!.stop();
    try {
      const { json, sent } = await apply('cache-down');
      for (const h of HOSTS) {
        expect(lab.currentSystem(h)).toBe(wanted[h]);
        expect(hostOf(json, h).uploaded!.bytes).toBeGreaterThan(sharedMiB * MiB);
      }
      expect(sent).toBeGreaterThan(2 * sharedMiB * MiB);
    } finally {
      await lab.cache!.start();
    }
  }, T);

  it('--no-substitutes uploads everything the targets lack, though the cache has it', async () => {
    const shared = await nextSystems();
    await lab.cache!.add([shared]);
    const { json, sent, path } = await apply('no-substitutes', ['--no-substitutes']);
    const plan = await runFleet(lab, ['plan', '-f', path, '--no-substitutes']);
    expect(plan.stdout).not.toContain('--substitute-on-destination');
    expect(plan.stdout).toContain('no substitution on the target: all it lacks is uploaded from here');
    for (const h of HOSTS) expect(hostOf(json, h).uploaded!.bytes).toBeGreaterThan(sharedMiB * MiB);
    expect(sent).toBeGreaterThan(2 * sharedMiB * MiB);
  }, T);

  it('cache.push: each path goes to the cache once, signed with signingKey, and the hosts substitute it all from there', async () => {
    const shared = await nextSystems();
    expect(lab.cache!.has(shared)).toBe(false);
    const wanted = await lab.toplevels(HOSTS);
    // The push URL without the lab's own secret-key: fleet signs with signingKey (nix store sign).
    const push = `${lab.cache!.url}?compression=none`;
    const { run, json, sent } = await apply('push', [], { cache: { push, signingKey: lab.cache!.secretKeyFile } });
    for (const h of HOSTS) {
      expect(lab.cache!.has(wanted[h]!)).toBe(true);
      // Nothing of the closure went to the host from here: it substituted all of it from the cache.
      expect(hostOf(json, h).uploaded).toEqual({ paths: 0, bytes: 0 });
      expect(run.stdout).toContain(`pushed ${wanted[h]} to the cache ${push}`);
    }
    // The shared path crossed the link once (the push), not once per host.
    expect(sent).toBeGreaterThan(sharedMiB * MiB);
    expect(sent).toBeLessThan(1.2 * (sharedMiB * MiB + HOSTS.length * hostKiB * 1024) + 2 * MiB);
    const puts = lab.cache!.requests().filter((r) => r.method === 'PUT' && r.path === `/${shared.slice(11, 43)}.narinfo`);
    expect(puts).toHaveLength(1);
  }, T);

  it('a failed push fails nothing: the run warns and the hosts get the upload', async () => {
    const shared = await nextSystems();
    const wanted = await lab.toplevels(HOSTS);
    const push = `http://${lab.cache!.url.split('/')[2]!.split(':')[0]}:9?compression=none`;
    const { run, json } = await apply('push-fails', [], { cache: { push } });
    for (const h of HOSTS) {
      expect(lab.currentSystem(h)).toBe(wanted[h]);
      expect(lab.storePaths(h)).toContain(shared);
      expect(hostOf(json, h).uploaded!.bytes).toBeGreaterThan(sharedMiB * MiB);
    }
    expect(run.stdout).toMatch(new RegExp(`\\[s1\\] .*pushing to the cache ${push.replace(/[?.]/g, '\\$&')} failed .*: what the cache lacks is uploaded from here`));
  }, T);
});
