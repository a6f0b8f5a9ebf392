// Retry of what failed, and the deploy history on every host, against real lab hosts: the real CLI,
// real ssh, a real git checkout of the flake, a real reboot.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from './lab.js';
import { hostOf, readReport, runFleet, writeLabManifest } from './fleet-harness.js';

interface HistoryJson {
  host: string;
  records: { time: string; host: string; action: string; mode: string; system: string; generation: number | null; outcome?: string; operator: string; ci: { system: string; actor: string | null; runUrl: string | null } | null; revision: string | null; fleetVersion: string }[];
  unreadable: number;
}

/** No CI variables of the machine running the tests leak into a "local" run; CI=true stays (the harness sets it). */
const LOCAL = { GITHUB_ACTIONS: '', GITLAB_CI: '', BUILDKITE: '', CIRCLECI: '', JENKINS_URL: '', FLEET_OPERATOR: '', CI: '' };
const GITHUB = {
  ...LOCAL,
  CI: 'true',
  GITHUB_ACTIONS: 'true',
  GITHUB_ACTOR: 'octocat',
  GITHUB_SERVER_URL: 'https://github.com',
  GITHUB_REPOSITORY: 'acme/infra',
  GITHUB_RUN_ID: '4242',
  GITHUB_TOKEN: 'ghs_FAKE_TOKEN_NEVER_RECORDED',
};

describe('retry and deploy history in the lab', () => {
  let lab: Lab;
  let dir: string;
  let manifest: string;
  let agenixKey: string;
  const fleet = (args: string[], env: Record<string, string> = LOCAL) => runFleet(lab, [args[0]!, '-f', manifest, ...args.slice(1)], { env });
  const git = (...args: string[]) => {
    const run = spawnSync('git', ['-c', 'user.name=lab', '-c', 'user.email=lab@example.org', '-C', lab.flakeDir, ...args], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`git ${args.join(' ')}: ${run.stderr}`);
    return run.stdout.trim();
  };
  const commit = (message: string) => {
    git('commit', '-qam', message);
    return git('rev-parse', 'HEAD');
  };
  const history = async (host: string): Promise<HistoryJson> => {
    const run = await fleet(['history', host, '--json']);
    expect(run.code, run.stderr).toBe(0);
    return JSON.parse(run.stdout) as HistoryJson;
  };
  const historyFile = (host: string) => join(lab.host(host).dirs.disk, 'nix', 'var', 'fleet', 'history.jsonl');
  const me = `${userInfo().username}@${hostname()}`;
  let first = '';

  beforeAll(async () => {
    lab = await startLab({ hosts: [{ name: 'h1', state: 'installed' }, { name: 'h2', state: 'installed', variant: 'fails' }, { name: 'h3', state: 'installed' }] });
    // The flake is a git checkout, as a user's is: its commit is the revision the history records.
    git('init', '-q');
    git('add', '-A');
    first = commit('lab flake');
    dir = mkdtempSync(join(tmpdir(), 'fleet-history-'));
    agenixKey = 'AGE-SECRET-KEY-1LABHISTORYNEVERRECORDED';
    writeFileSync(join(dir, 'agenix_key'), `${agenixKey}\n`, { mode: 0o600 });
    manifest = writeLabManifest(lab, dir, [
      { name: 'h1', extra: { keys: { push: 'always', agenixKeyFile: join(dir, 'agenix_key') } } },
      { name: 'h2' },
      { name: 'h3' },
    ]);
  });

  afterAll(async () => {
    await lab?.stop();
  });

  it('--retry-failed after a run where one host failed touches only that host', async () => {
    const run = await fleet(['apply', '--report', join(dir, 'first.json')]);
    expect(run.code, run.stderr).toBe(1);
    const report = readReport(join(dir, 'first.json'));
    expect(report.hosts.map((h) => [h.host, h.outcome])).toEqual([['h1', 'changed'], ['h2', 'failed'], ['h3', 'changed']]);
    // Every apply keeps its report beside the manifest.
    const kept = JSON.parse(readFileSync(join(dir, '.fleet', 'last-run.json'), 'utf8')) as { reportVersion: number; manifest: string; provenance: { revision: string } };
    expect(kept).toMatchObject({ reportVersion: 2, manifest, provenance: { revision: first } });

    lab.setVariant('h2', 'good');
    commit('h2 fixed');
    const before = { h1: lab.activations('h1').length, h3: lab.activations('h3').length, tools: lab.toolLog().length };
    const retry = await fleet(['apply', '--retry-failed', '--report', join(dir, 'retry.json')]);
    expect(retry.code, retry.stderr).toBe(0);
    expect(retry.stderr).toMatch(/^fleet: retrying 1 host that did not end changed or unchanged in the run of \S+: h2 \(failed\)$/m);
    const retried = readReport(join(dir, 'retry.json'));
    expect(retried.hosts.map((h) => [h.host, h.outcome])).toEqual([['h2', 'changed']]);
    expect({ h1: lab.activations('h1').length, h3: lab.activations('h3').length }).toEqual({ h1: before.h1, h3: before.h3 });
    // No tool (nixos-rebuild through its stand-in) ran against another host.
    const others = [lab.host('h1').address, lab.host('h3').address];
    expect(lab.toolLog().slice(before.tools).filter((t) => others.some((a) => JSON.stringify(t.argv).includes(a)))).toEqual([]);
    expect(lab.toolLog().slice(before.tools).some((t) => JSON.stringify(t.argv).includes(lab.host('h2').address))).toBe(true);
    expect(lab.activations('h2').at(-1)).toMatchObject({ action: 'switch', exitCode: 0 });
    // The history shows both activations of h2: the failed one, then the retry.
    const h2 = (await history('h2')).records;
    expect(h2.map((r) => [r.action, r.outcome])).toEqual([
      ['deploy', 'verified'],
      ['deploy', expect.stringMatching(/^failed: /)],
    ]);
    expect(h2.map((r) => r.system)).toEqual(lab.activations('h2').filter((a) => a.action === 'switch').slice(-2).map((a) => a.storePath).reverse());

    const again = await fleet(['apply', '--retry-failed']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^fleet: nothing to retry: every host of the run of \S+ ended changed or unchanged/m);

    // A report of another manifest is refused before anything runs.
    const otherDir = join(dir, 'other');
    mkdirSync(otherDir);
    const other = writeLabManifest(lab, otherDir, [{ name: 'h1' }]);
    copyFileSync(join(dir, 'first.json'), join(otherDir, 'first.json'));
    const refused = await runFleet(lab, ['apply', '-f', other, '--retry-failed', join(otherDir, 'first.json')]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/is the report of another manifest \(.*\/fleet.yaml\), not of .*\/other\/fleet.yaml/);
  }, 180_000);

  it('the history of a host lists every fleet deploy with its operator and revision, survives a reboot, and holds no key material', async () => {
    // A deploy from CI, of an uncommitted change.
    lab.setRevision(2);
    const ci = await fleet(['apply', 'h1'], GITHUB);
    expect(ci.code, ci.stderr).toBe(0);
    const rolled = await fleet(['rollback', 'h1', '--json']);
    expect(rolled.code, rolled.stderr).toBe(0);
    expect(JSON.parse(rolled.stdout).hosts[0]).toMatchObject({ outcome: 'changed', history: { written: true, reason: null } });

    const { records, unreadable } = await history('h1');
    expect(unreadable).toBe(0);
    const fixed = git('rev-parse', 'HEAD');
    expect(records.map((r) => [r.action, r.mode, r.operator, r.revision, r.generation])).toEqual([
      // A rollback builds nothing: its revision is that of the generation it went back to.
      ['rollback', 'switch', me, first, 2],
      ['deploy', 'switch', 'octocat', `${fixed}-dirty`, 3],
      ['deploy', 'switch', me, first, 2],
    ]);
    expect(records[1]!.ci).toEqual({ system: 'github-actions', actor: 'octocat', runUrl: 'https://github.com/acme/infra/actions/runs/4242' });
    // Every switch fleet made on the host is there, newest first, with the system it activated.
    const switches = lab.activations('h1').filter((a) => a.action === 'switch' && a.exitCode === 0);
    expect(records.map((r) => r.system)).toEqual(switches.slice(-3).map((a) => a.storePath).reverse());

    const table = await fleet(['history', 'h1']);
    expect(table.stdout).toMatch(/^ {2}\S+ \S+ +deploy +switch +3 +[0-9a-f]{12}-dirty +octocat \(github-actions\) +\/nix\/store\/…-/m);
    const generations = await fleet(['generations', 'h1']);
    expect(generations.stdout).toMatch(new RegExp(`^ {2}2 +\\S+ \\S+ +${first.slice(0, 12)} +${me.replace(/[.]/g, '\\.')} +\\S+ +\\(live, boot default\\)$`, 'm'));
    expect(generations.stdout).toMatch(new RegExp(`^ {2}3 +\\S+ \\S+ +${fixed.slice(0, 12)}-dirty +octocat \\(github-actions\\) +\\S+ *$`, 'm'));
    const status = await fleet(['status', 'h1', '--json']);
    expect(JSON.parse(status.stdout).hosts[0].liveRecord).toMatchObject({ action: 'rollback', operator: me, revision: first });

    // Root's, world-readable, and nothing secret in it: no pushed key, no token, no environment.
    const text = readFileSync(historyFile('h1'), 'utf8');
    expect(statSync(historyFile('h1')).mode & 0o777).toBe(0o644);
    expect(statSync(historyFile('h1')).uid).toBe(0);
    expect(existsSync(join(lab.host('h1').dirs.disk, 'etc', 'ssh', 'global_ed25519'))).toBe(true);
    expect(text).not.toContain(agenixKey);
    expect(text).not.toContain(Buffer.from(`${agenixKey}\n`).toString('base64'));
    expect(text).not.toContain(readFileSync(lab.clientKey, 'utf8').split('\n')[1]!);
    expect(text).not.toMatch(/PRIVATE KEY|ghs_FAKE_TOKEN|AGE-SECRET/);

    const bootId = lab.bootId('h1');
    await lab.reboot('h1');
    expect(lab.bootId('h1')).not.toBe(bootId);
    expect((await history('h1')).records).toEqual(records);
  }, 180_000);

  it('a failed health check and a watchdog rollback each appear in the history with their outcome', async () => {
    // A health check that fails on the new system: the host fails, the new system stays live, and is recorded.
    const checked = writeLabManifest(lab, join(dir, 'checked'), [{ name: 'h2', extra: { healthChecks: [{ name: 'http', command: ['false'], timeout: 5 }] } }]);
    const failed = await runFleet(lab, ['apply', '-f', checked, 'h2', '--force'], { env: LOCAL });
    expect(failed.code, failed.stderr).toBe(1);
    const afterCheck = (await history('h2')).records;
    expect(afterCheck[0]).toMatchObject({ action: 'deploy', mode: 'switch', outcome: "health check 'http' failed", system: lab.currentSystem('h2'), operator: me });

    // A system that cuts ssh: no fresh connection confirms it, the watchdog rolls the host back.
    const before = lab.currentSystem('h2');
    lab.setVariant('h2', 'breaks-ssh');
    const watched = writeLabManifest(lab, join(dir, 'watched'), [{ name: 'h2', extra: { rollback: { timeout: 10 } } }]);
    const lost = await runFleet(lab, ['apply', '-f', watched, 'h2', '--json'], { env: LOCAL });
    expect(lost.code, lost.stderr).toBe(1);
    expect(JSON.parse(lost.stdout).hosts[0]).toMatchObject({ outcome: 'rolled-back' });
    expect(lab.currentSystem('h2')).toBe(before);
    const broken = lab.activations('h2').filter((a) => a.action === 'switch' && a.storePath !== before).at(-1)!.storePath;
    const records = (await history('h2')).records;
    expect(records.slice(0, 3).map((r) => [r.action, r.system, r.outcome])).toEqual([
      ['rollback', before, expect.stringMatching(/^by the watchdog: /)],
      ['deploy', broken, 'lost ssh: the watchdog rolls back'],
      ['deploy', before, "health check 'http' failed"],
    ]);
    lab.setVariant('h2', 'good');
  }, 180_000);

  it('a history that cannot be written never fails a good deploy: the host ends changed, with a warning', async () => {
    // /nix/var/fleet is a file: the script cannot make its directory.
    const broken = await lab.exec('h3', ['sh', '-c', 'rm -rf /nix/var/fleet && touch /nix/var/fleet']);
    expect(broken.exitCode, broken.stderr).toBe(0);
    const run = await fleet(['apply', 'h3', '--force', '--report', join(dir, 'h3.json')]);
    expect(run.code, run.stderr).toBe(0);
    const h3 = hostOf(readReport(join(dir, 'h3.json')), 'h3');
    expect(h3.outcome).toBe('changed');
    expect(h3.reason).toMatch(/^deployed switch \(deploy history not written: mkdir: cannot create directory .*\)$/);
    expect((h3 as unknown as { history: unknown }).history).toMatchObject({ written: false });
    expect(run.stdout).toMatch(/\[h3\] ! deploy history not written/);
  }, 120_000);

  it('--retry-failed reads a report\'s host names as names: `h*` or `@all` there is an unknown host (exit 2), and nothing is deployed', async () => {
    const kept = JSON.parse(readFileSync(join(dir, 'first.json'), 'utf8')) as { hosts: { host: string; outcome: string }[] };
    for (const name of ['h*', '@all']) {
      const path = join(dir, `names-${name === 'h*' ? 'glob' : 'tag'}.json`);
      writeFileSync(path, JSON.stringify({ ...kept, hosts: [{ ...kept.hosts[0]!, host: name, outcome: 'failed' }] }));
      const before = { tools: lab.toolLog().length, activations: ['h1', 'h2', 'h3'].map((h) => lab.activations(h).length) };
      const trace = join(dir, `trace-${name === 'h*' ? 'glob' : 'tag'}.jsonl`);
      const run = await fleet(['apply', '--retry-failed', path], { ...LOCAL, FLEET_TRACE_EXEC: trace });
      expect(run.code, run.stderr).toBe(2);
      // No process fleet started reached a host (no ssh, no copy).
      const started = existsSync(trace) ? readFileSync(trace, 'utf8').trim().split('\n').filter(Boolean).map((line) => (JSON.parse(line) as { argv: string[] }).argv) : [];
      expect(started.filter((argv) => argv[0] === 'ssh' || argv.includes('copy'))).toEqual([]);
      expect(run.stderr).toContain(`fleet: unknown host ${JSON.stringify(name)} in ${path}: a host name read from a file is compared exactly`);
      // Only fleet's flavour question (`nixos-rebuild --store-path`, local) may have run: nothing touched a host.
      const addresses = ['h1', 'h2', 'h3'].map((h) => lab.host(h).address);
      expect(lab.toolLog().slice(before.tools).filter((t) => addresses.some((a) => JSON.stringify(t.argv).includes(a)))).toEqual([]);
      expect(['h1', 'h2', 'h3'].map((h) => lab.activations(h).length)).toEqual(before.activations);
    }
  }, 60_000);
});
