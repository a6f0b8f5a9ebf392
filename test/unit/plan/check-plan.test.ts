// fleet check is planned: each host's vitals script over a one-shot connection, then its health
// checks as the host plan holds them; `fleet plan --for check` prints them.
import { describe, expect, it } from 'vitest';
import { buildPlan, CHECK_SCRIPT, fleetCheckPlan, resolveArgv } from '../../../src/plan/index.js';
import { quoteRemoteCommand } from '../../../src/ssh/index.js';
import { formatCheckPlan } from '../../../src/ui/format-operate.js';
import { host, inventory, planOptions } from './inventory-fixture.js';

const plan = buildPlan(
  inventory([
    host('web-1', { healthChecks: [{ name: 'http', command: ['curl', '-fsS', 'http://localhost/'], timeout: 5 }, { name: 'disk', command: ['sh', '-c', 'test -w /var'], timeout: 2 }] }),
    host('db', { target: { kind: 'ssh', user: 'deploy', host: 'db.example.org', port: 22 } }),
    host('here', { target: { kind: 'local' } }),
  ]),
  planOptions(),
);
const [web1, db, here] = plan.hosts.map(fleetCheckPlan);

describe('the plan of fleet check', () => {
  it('the vitals script over a one-shot connection, as root; locally without ssh', () => {
    const vitals = resolveArgv(web1!.check.vitals.argv, {});
    expect(vitals[0]).toBe('ssh');
    expect(vitals.at(-1)).toBe(quoteRemoteCommand(['sh', '-c', CHECK_SCRIPT, 'fleet-check']));
    expect(vitals.some((w) => w.startsWith('ControlPath=') && w !== 'ControlPath=none')).toBe(false);
    expect(resolveArgv(db!.check.vitals.argv, {}).at(-1)).toMatch(/^sudo -n -- sh -c /);
    expect(here!.check.vitals.argv).toEqual(['sh', '-c', CHECK_SCRIPT, 'fleet-check']);
  });

  it('the health checks are apply’s, in manifest order, each bounded by `timeout` on the target, over one-shot connections', () => {
    const apply = plan.hosts[0]!.healthChecks;
    expect(web1!.check.healthChecks.map((c) => [c.check, c.command.purpose])).toEqual(apply.map((c) => [c.check, c.command.purpose]));
    expect(web1!.check.healthChecks.map((c) => resolveArgv(c.command.argv, {}).at(-1))).toEqual(['timeout 5 curl -fsS http://localhost/', "timeout 2 sh -c 'test -w /var'"]);
    // apply's verify shares the host's master; fleet check leaves none behind.
    const shared = (argv: readonly string[]) => argv.filter((w) => /^Control(Master|Path|Persist)=/.test(w) && w !== 'ControlMaster=no' && w !== 'ControlPath=none');
    expect(shared(resolveArgv(apply[0]!.command.argv, {}))).not.toEqual([]);
    for (const c of web1!.check.healthChecks) expect(shared(resolveArgv(c.command.argv, {}))).toEqual([]);
    expect(db!.check.healthChecks).toEqual([]);
  });

  it('fleet plan --for check, human', () => {
    const text = formatCheckPlan([web1!, db!, here!]).join('\n');
    expect(text).toMatch(/^web-1\n {4}vitals: \$ ssh .* root@web-1\.example\.org 'sh -c <check script> fleet-check'\n {4}health check http: \$ ssh .* 'timeout 5 curl -fsS http:\/\/localhost\/' {2}\(within 5s\)\n {4}health check disk: .* \(within 2s\)\ndb\n {4}vitals: .*\n {4}health checks: none\nhere\n {4}vitals: \$ sh -c '<check script>' fleet-check\n {4}health checks: none$/m);
  });
});
