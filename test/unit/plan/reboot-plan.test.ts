// fleet reboot is planned: each host's reboot (the boot id before, the reboot, the bounded wait) and,
// for a host with secrets, their restore, each with the argv the run uses; `fleet plan --for
// reboot` prints them (human form here; JSON in test/unit/cli/plan-for.test.ts).
import { describe, expect, it } from 'vitest';
import type { SecretSpec } from '../../../src/manifest/inventory.js';
import { buildPlan, fleetRebootPlan, REBOOT_SCRIPT, resolveArgv, type FleetRebootPlan, type RebootStep } from '../../../src/plan/index.js';
import { formatRebootPlan } from '../../../src/ui/format-operate.js';
import { host, inventory, planOptions } from './inventory-fixture.js';

const secret = (name: string, upload: SecretSpec['upload'], destination = `/run/keys/${name}`): SecretSpec => ({
  name,
  source: { kind: 'env', name: `SECRET_${name.toUpperCase().replace(/-/g, '_')}` },
  destination,
  owner: 'root',
  group: 'root',
  mode: '0400',
  upload,
});

const plan = buildPlan(
  inventory([
    host('web-1'),
    host('db', { target: { kind: 'ssh', user: 'deploy', host: 'db.example.org', port: 2222 }, secrets: [secret('api-token', 'before-activation'), secret('grafana-admin', 'after-activation')] }),
    host('here', { target: { kind: 'local' } }),
  ]),
  planOptions(),
);

function rebootOf(p: FleetRebootPlan | undefined): RebootStep {
  if (!p || 'never' in p) throw new Error('expected a reboot');
  return p.reboot;
}

/** The remote command line of an ssh argv: the words after `-- <destination>`. */
const remote = (argv: readonly string[]) => argv.slice(argv.indexOf('--') + 2).join(' ');
/** The `-o` options of an ssh argv. */
const options = (argv: readonly string[]) => argv.flatMap((w, i) => (argv[i - 1] === '-o' ? [w] : []));

describe('the plan of fleet reboot', () => {
  const [web1, db, here] = plan.hosts.map((h) => fleetRebootPlan(h, 120));

  it('a host: a fresh probe for the boot id, the reboot script, a polled fresh probe; bounded by the wait', () => {
    const r = rebootOf(web1);
    expect(r).toMatchObject({ kind: 'reboot', waitSeconds: 120, connectTimeoutSeconds: 10 });
    expect(r.guard).toBe('a new boot id within 120s of the reboot, on its boot default (/run/booted-system is the system profile)');

    const before = resolveArgv(r.before.argv, {});
    expect(before.slice(0, 7)).toEqual(['ssh', '-o', 'ConnectTimeout=10', '-o', 'ControlMaster=no', '-o', 'ControlPath=none']);
    expect(before[before.indexOf('--') + 1]).toBe('root@web-1.example.org');
    expect(remote(before)).toMatch(/ fleet-probe - \/etc\/ssh$/);

    const reboot = resolveArgv(r.reboot.argv, {});
    expect(reboot[0]).toBe('ssh');
    expect(remote(reboot)).toBe(`sh -c '${REBOOT_SCRIPT}' fleet-reboot`);

    // The wait probe's connect timeout is the one run-time value; everything else is literal.
    expect(r.wait.argv.filter((w) => typeof w !== 'string')).toEqual([{ ref: 'connectTimeout' }]);
    const polled = resolveArgv(r.wait.argv, { connectTimeout: 'ConnectTimeout=3' });
    expect(options(polled).slice(0, 3)).toEqual(['ConnectTimeout=3', 'ControlMaster=no', 'ControlPath=none']);
    expect(remote(polled)).toBe(remote(before));
    expect(() => resolveArgv(r.wait.argv, {})).toThrow('no value for <connectTimeout>');
    expect(r.restoreSecrets).toBeUndefined();
  });

  it('no command leaves a shared master behind: one-shot connections, though the host plan shares one', () => {
    expect(plan.hosts[0]!.ssh?.controlDir).toBeDefined();
    const r = rebootOf(web1);
    for (const command of [r.before, r.reboot, r.wait]) {
      const opts = options(resolveArgv(command.argv, { connectTimeout: 'ConnectTimeout=1' }));
      expect(opts.filter((o) => /^Control(Master|Path|Persist)=/.test(o) && o !== 'ControlMaster=no' && o !== 'ControlPath=none')).toEqual([]);
    }
  });

  it('a host with secrets: its restore, a digest probe then the uploads by group, escalated like every command of a non-root user', () => {
    const r = rebootOf(db);
    for (const command of [r.before, r.reboot, r.wait]) {
      expect(remote(resolveArgv(command.argv, { connectTimeout: 'ConnectTimeout=1' }))).toMatch(/^sudo -n -- sh -c /);
    }
    const restore = r.restoreSecrets!;
    expect(restore.upload).toMatchObject({ kind: 'secrets', uploads: true });
    expect(restore.upload.secrets.map((s) => s.name)).toEqual(['api-token', 'grafana-admin']);
    const digests = resolveArgv(restore.digests.argv, { digestKey: 'k1' });
    const at = digests.indexOf('--');
    expect(digests.slice(at - 2, at + 2)).toEqual(['-p', '2222', '--', 'deploy@db.example.org']);
    expect(remote(digests)).toMatch(/ fleet-probe - \/etc\/ssh --secrets k1 \/run\/keys\/api-token \/run\/keys\/grafana-admin$/);
    const before = resolveArgv(restore.upload.beforeActivation!.push.argv, {});
    const after = resolveArgv(restore.upload.afterActivation!.push.argv, {});
    expect(remote(before)).toMatch(/^sudo -n -- sh -c .* fleet-push-secrets \/run\/keys\/api-token root root 0400$/s);
    expect(remote(after)).toMatch(/^sudo -n -- sh -c .* fleet-push-secrets \/run\/keys\/grafana-admin root root 0400$/s);
    expect(restore.upload.beforeActivation!.push).toMatchObject({ purpose: 'upload secrets again (before-activation ones)', stdin: expect.stringMatching(/^secret contents/) });
    for (const argv of [digests, before, after]) expect(options(argv).some((o) => o.startsWith('ControlPath=') && o !== 'ControlPath=none')).toBe(false);
  });

  it('a host in dry-activate mode still gets its secrets restored (a reboot emptied them; dry-activate compares only during a deploy)', () => {
    const dry = buildPlan(inventory([host('lab', { mode: 'dry-activate', secrets: [secret('token', 'before-activation')] })]), planOptions());
    expect(dry.hosts[0]!.secrets).toMatchObject({ uploads: false });
    expect(rebootOf(fleetRebootPlan(dry.hosts[0]!, 60)).restoreSecrets?.upload.uploads).toBe(true);
  });

  it('the local machine is never rebooted', () => {
    expect(here).toEqual({ host: 'here', never: 'here is the local machine: fleet will not reboot the machine it runs on' });
  });

  it('fleet plan --for reboot, human: per host its commands and bound, its secrets (names and sources only) or none', () => {
    const lines = formatRebootPlan([web1!, db!, here!]);
    const text = lines.join('\n');
    expect(lines[0]).toBe('fleet reboot: each host rebooted, then waited for until it answers with a new boot id on its boot default');
    expect(text).toMatch(/^web-1\n {2}reboot {2}a new boot id within 120s of the reboot, .*\n {4}boot id before the reboot: \$ ssh .*<probe script> fleet-probe - \/etc\/ssh'\n {4}reboot: \$ ssh .*'sh -c <reboot script> fleet-reboot'\n {4}wait for a new boot id: \$ ssh -o <connectTimeout> .* \(polled until 120s after the reboot; <connectTimeout> at most 10s, never past that\)\n {2}secrets {2}never \(no secrets\)$/m);
    expect(text).toMatch(/^ {4}api-token → \/run\/keys\/api-token {2}root:root 0400, before-activation, from env SECRET_API_TOKEN$/m);
    expect(text).toMatch(/^ {4}secret digests: \$ ssh .* --secrets' <digestKey> .*$/m);
    expect(text).toMatch(/^ {4}upload secrets again \(after-activation ones\): \$ ssh .*<push-secrets script> fleet-push-secrets \/run\/keys\/grafana-admin root root 0400' {2}\(stdin: secret contents .*\)$/m);
    expect(lines.at(-1)).toBe('here  never (here is the local machine: fleet will not reboot the machine it runs on)');
  });
});
