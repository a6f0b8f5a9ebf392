// The secrets step over a fake process port: sources read once before anything changes, the
// keyed-digest comparison, uploads before and after activation on stdin only, and its failures.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { secretDigest } from '../../../src/backends/index.js';
import type { SecretSpec } from '../../../src/manifest/inventory.js';
import { buildPlan } from '../../../src/plan/index.js';
import { runPlan, type HostOutcome } from '../../../src/run/index.js';
import { host, inventory, planOptions } from '../plan/inventory-fixture.js';
import { fakeExec, probeAnswer, type Call, type CommandKind, type Facts, type Responder } from './fake-exec.js';

const OLD = '/nix/store/old';
const VALUES = { token: 'token-value-1234', password: 'password-value-5678' };

let dir: string;
let toplevel: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fleet-secrets-'));
  toplevel = join(dir, 'system');
  mkdirSync(toplevel);
  process.env.FLEET_UNIT_TOKEN = VALUES.token;
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
  delete process.env.FLEET_UNIT_TOKEN;
});

const SECRETS: SecretSpec[] = [
  { name: 'db', source: { kind: 'command', argv: ['pass', 'show', 'db'], cwd: '/srv' }, destination: '/run/keys/db', owner: 'postgres', group: 'postgres', mode: '0400', upload: 'after-activation' },
  { name: 'token', source: { kind: 'env', name: 'FLEET_UNIT_TOKEN' }, destination: '/run/keys/token', owner: 'root', group: 'root', mode: '0400', upload: 'before-activation' },
];

/** The digest key fleet sent with its probe (a word of the lock's remote command line). */
function digestKeyOf(lock: Call): string {
  const key = /--secrets ([0-9a-f]{32})/.exec(lock.argv.join(' '))?.[1];
  if (!key) throw new Error('no digest key in the lock command');
  return key;
}

async function apply(options: { system?: string; facts?: (lock: Call) => Facts; respond?: Partial<Record<CommandKind, Responder>>; mode?: 'switch' | 'dry-activate'; steps?: ('secrets' | 'deploy' | 'verify')[] } = {}) {
  const paths = { stateDir: join(dir, 'state'), knownHosts: join(dir, 'run', 'known_hosts'), tofuKnownHosts: join(dir, 'state', 'known_hosts.tofu'), runtimeDir: join(dir, 'run') };
  const plan = buildPlan(
    inventory([host('web-1', { secrets: SECRETS, mode: options.mode ?? 'switch' })]),
    planOptions({ rebuildFlavour: 'bash', paths, ...(options.steps ? { scope: { steps: options.steps } } : {}) }),
  );
  const stdins: { kind: CommandKind; stdin: string }[] = [];
  const fake = fakeExec({
    outputs: { 'web-1': { toplevel: options.system ?? toplevel } },
    respond: {
      lock: (_request, call) => ({ stdout: `locked\n${probeAnswer(options.facts?.(call) ?? { current: OLD, profile: OLD, generation: 3, closure: 'absent', secrets: ['missing', 'missing'] })}` }),
      confirm: () => ({ stdout: `confirmed\n${probeAnswer({ current: toplevel, profile: toplevel, generation: 4 })}` }),
      unknown: (request) => (request.argv[0] === 'pass' ? { stdout: VALUES.password } : {}),
      'push-secrets': (request) => {
        stdins.push({ kind: 'push-secrets', stdin: String(request.stdin) });
        return {};
      },
      ...options.respond,
    },
  });
  const result = await runPlan(plan, { exec: fake.exec, reporter: { emit: () => undefined, close: async () => undefined } });
  return { outcome: result.outcomes[0] as HostOutcome, fake, stdins };
}

const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('the secrets step', () => {
  it('reads every source once before anything changes, uploads before activation and after it, contents on stdin only', async () => {
    const { outcome, fake, stdins } = await apply();
    expect(outcome).toMatchObject({ kind: 'changed', reason: 'deployed switch' });
    expect(fake.kinds()).toEqual(['eval', 'lock', 'build', 'unknown', 'push-secrets', 'copy', 'armed-activate', 'confirm', 'push-secrets', 'control']);
    expect(outcome.steps.map((s) => `${s.step}:${s.status}`)).toEqual(['probe:done', 'secrets:done', 'push-keys:skipped', 'bootstrap:skipped', 'secrets:done', 'deploy:done', 'verify:done', 'secrets:done']);
    expect(outcome.steps[4]!.detail).toBe('uploaded token → /run/keys/token');
    expect(outcome.steps[7]!.detail).toBe('uploaded db → /run/keys/db');
    // Each upload names its files (path, owner, group, mode) in argv; the content travels on stdin.
    const [before, after] = fake.of('push-secrets');
    expect(before!.argv.at(-1)).toMatch(/fleet-push-secrets \/run\/keys\/token root root 0400$/);
    expect(after!.argv.at(-1)).toMatch(/fleet-push-secrets \/run\/keys\/db postgres postgres 0400$/);
    expect(stdins.map((s) => s.stdin)).toEqual([`0 ${b64(VALUES.token)}\n`, `0 ${b64(VALUES.password)}\n`]);
    for (const call of fake.calls) {
      const seen = JSON.stringify([call.argv, call.env ?? {}]);
      for (const value of [...Object.values(VALUES), ...Object.values(VALUES).map(b64)]) expect(seen).not.toContain(value);
    }
  });

  it('uploads nothing when the keyed digests, owners and modes on the target match', async () => {
    const facts = (lock: Call): Facts => {
      const key = digestKeyOf(lock);
      return {
        current: toplevel,
        profile: toplevel,
        generation: 4,
        secrets: [`${secretDigest(key, Buffer.from(VALUES.password))} postgres postgres 400`, `${secretDigest(key, Buffer.from(VALUES.token))} root root 400`],
      };
    };
    const { outcome, fake } = await apply({ facts });
    expect(outcome).toMatchObject({ kind: 'unchanged', reason: 'already up to date' });
    expect(fake.of('push-secrets')).toHaveLength(0);
    expect(outcome.steps.filter((s) => s.step === 'secrets').map((s) => s.detail)).toEqual([
      'read 2 secrets here; all in place on the target',
      'identical secrets already on the target',
      'identical secrets already on the target',
    ]);
  });

  it('uploads again what differs: content under another digest key, an owner, a mode', async () => {
    const facts = (lock: Call): Facts => ({
      current: toplevel,
      profile: toplevel,
      generation: 4,
      secrets: [`${secretDigest('another key', Buffer.from(VALUES.password))} postgres postgres 400`, `${secretDigest(digestKeyOf(lock), Buffer.from(VALUES.token))} root root 644`],
    });
    const { outcome, fake } = await apply({ facts });
    expect(outcome).toMatchObject({ kind: 'changed', reason: 'secrets uploaded' });
    expect(outcome.steps[1]!.detail).toBe('read 2 secrets here; not in place: db: content differs, token: mode 0644, want 0400');
    expect(fake.of('push-secrets')).toHaveLength(2);
  });

  it('a failing source command fails the host at secrets before anything on it changes, without the value', async () => {
    const { outcome, fake } = await apply({ respond: { unknown: () => ({ exitCode: 1, stdout: 'partial-output-9999', stderr: 'Error: db is not in the password store.\n' }) } });
    expect(outcome).toMatchObject({
      kind: 'failed',
      step: 'secrets',
      reason: 'secret db: command pass show db exited 1: Error: db is not in the password store.; nothing on the host was changed',
    });
    expect(fake.kinds()).toEqual(['eval', 'lock', 'build', 'unknown', 'control']);
    expect(JSON.stringify(outcome)).not.toContain('partial-output-9999');
  });

  it('an owner the target lacks fails the upload with a hint to upload after activation', async () => {
    const { outcome, fake } = await apply({ respond: { 'push-secrets': () => ({ exitCode: 3, stdout: 'missing-user=root\n' }) } });
    expect(outcome).toMatchObject({
      kind: 'failed',
      step: 'secrets',
      reason: 'secret token: user root does not exist on the target; no secret was written',
      hint: 'if the new system creates it, set `upload: after-activation` on the secret',
    });
    expect(fake.kinds()).not.toContain('armed-activate');
  });

  it('a host whose build fails uploads no secret: it ends failed at build with nothing changed', async () => {
    // Its output never appears: the build really failed.
    const { outcome, fake } = await apply({ system: join(dir, 'never-built'), respond: { build: () => ({ exitCode: 1, stderr: 'error: builder for the system failed\n' }) } });
    expect(outcome).toMatchObject({ kind: 'failed', step: 'build' });
    expect(fake.of('push-secrets')).toHaveLength(0);
    expect(fake.kinds()).not.toContain('armed-activate');
  });

  it('dry-activate reads and compares, and uploads nothing', async () => {
    const { outcome, fake } = await apply({ mode: 'dry-activate' });
    expect(fake.of('push-secrets')).toHaveLength(0);
    expect(outcome.steps.filter((s) => s.step === 'secrets').map((s) => `${s.status}: ${s.detail}`)).toEqual([
      'done: read 2 secrets here; not in place: db: missing (/run/keys/db), token: missing (/run/keys/token)',
      'skipped: dry-activate uploads nothing; would upload token → /run/keys/token',
      'skipped: dry-activate uploads nothing; would upload db → /run/keys/db',
    ]);
  });

  it('push-secrets builds nothing and runs only the secrets step', async () => {
    const { outcome, fake } = await apply({ steps: ['secrets'] });
    expect(fake.kinds()).toEqual(['lock', 'unknown', 'push-secrets', 'push-secrets', 'control']);
    expect(outcome).toMatchObject({ kind: 'changed', reason: 'secrets uploaded' });
    expect(outcome.storePath).toBeUndefined();
    // No closure is asked about: there is no built system.
    expect(fake.of('lock')[0]!.argv.join(' ')).toMatch(/ - \/etc\/ssh --secrets /);
  });
});
