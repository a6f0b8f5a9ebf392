// Secret sources (read once, in memory, withheld from children), the keyed digest comparison, and
// the remote upload and probe scripts run for real with sh in a scratch directory.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseProbe, SecretReader, secretDigest, secretStates, secretUploadFailure, withholdSecretEnvironment } from '../../../src/backends/index.js';
import type { Exec, ExecRequest } from '../../../src/exec/index.js';
import type { SecretSpec } from '../../../src/manifest/inventory.js';
import { PROBE_SCRIPT, pushSecretsCommand, pushSecretsInput, SECRETS_PUSH_SCRIPT } from '../../../src/plan/index.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fleet-secret-unit-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const secret = (name: string, source: SecretSpec['source'], extra: Partial<SecretSpec> = {}): SecretSpec => ({
  name,
  source,
  destination: join(dir, 'keys', name),
  owner: 'root',
  group: 'root',
  mode: '0400',
  upload: 'before-activation',
  ...extra,
});

describe('SecretReader', () => {
  it('runs a command source once per run however many hosts share it, and keeps its bytes as they are', async () => {
    const calls: ExecRequest[] = [];
    const exec: Exec = async (request) => {
      calls.push(request);
      return { exitCode: 0, signal: null, stdout: '', stderr: '', timedOut: false, stdoutBytes: Buffer.from([0, 255, 10]) };
    };
    const reader = new SecretReader(exec, {});
    const s = secret('bin', { kind: 'command', argv: ['pass', 'show', 'x'], cwd: dir });
    const [a, b] = await Promise.all([reader.read(s), reader.read({ ...s, name: 'again' })]);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ argv: ['pass', 'show', 'x'], cwd: dir, binaryStdout: true });
    expect(calls[0]!.onLine).toBeUndefined();
    expect([...a]).toEqual([0, 255, 10]);
    expect(b).toBe(a);
    reader.dispose();
    expect([...a]).toEqual([0, 0, 0]);
  });

  it('says why a source gives no secret, in one line without the content', async () => {
    const reader = new SecretReader(async () => ({ exitCode: 2, signal: null, stdout: 'half-a-secret', stderr: 'gpg: decryption failed\n', timedOut: false }), {});
    await expect(reader.readAll('web-1', 'secrets', [secret('a', { kind: 'command', argv: ['pass', 'a'], cwd: dir })])).rejects.toThrow(/^secret a: command pass a exited 2: gpg: decryption failed$/);
    await expect(reader.readAll('web-1', 'secrets', [secret('f', { kind: 'file', path: join(dir, 'nope') })])).rejects.toThrow(`secret f: cannot read ${join(dir, 'nope')} (no such file)`);
    await expect(reader.readAll('web-1', 'secrets', [secret('e', { kind: 'env', name: 'FLEET_NOT_SET_ANYWHERE' })])).rejects.toThrow('secret e: environment variable FLEET_NOT_SET_ANYWHERE is not set');
  });

  it('refuses an empty secret, naming host and secret, unless the secret allows it', async () => {
    const exec: Exec = async () => ({ exitCode: 0, signal: null, stdout: '', stderr: '', timedOut: false, stdoutBytes: Buffer.alloc(0) });
    const empty = secret('token', { kind: 'command', argv: ['pass', 'show', 'token'], cwd: dir });
    const refused = await new SecretReader(exec, {}).readAll('web-1', 'secrets', [empty]).then(() => undefined, (error: unknown) => error);
    expect(refused).toMatchObject({
      host: 'web-1',
      step: 'secrets',
      message: 'secret token: command pass show token gave an empty secret',
      hint: 'fix the source in fleet.yaml, or set `allowEmpty: true` on the secret if empty is what it should be',
    });
    const allowed = await new SecretReader(exec, {}).readAll('web-1', 'secrets', [{ ...empty, allowEmpty: true }]);
    expect(allowed.map((c) => c.length)).toEqual([0]);
    await expect(new SecretReader(exec, { EMPTY: '' }).readAll('web-1', 'status', [secret('e', { kind: 'env', name: 'EMPTY' })])).rejects.toThrow(/^secret e: env EMPTY gave an empty secret/);
  });

  it('takes variables named by env sources out of fleet’s environment, and still reads them', async () => {
    process.env.FLEET_UNIT_WITHHELD = 'withheld-value';
    withholdSecretEnvironment(['FLEET_UNIT_WITHHELD']);
    expect(process.env.FLEET_UNIT_WITHHELD).toBeUndefined();
    const content = await new SecretReader(async () => {
      throw new Error('no process');
    }).read(secret('e', { kind: 'env', name: 'FLEET_UNIT_WITHHELD' }));
    expect(content.toString()).toBe('withheld-value');
  });
});

describe('the upload and the probe on a target (sh, for real)', () => {
  const me = userInfo().username;
  const group = spawnSync('id', ['-gn'], { encoding: 'utf8' }).stdout.trim();

  it('writes only the records it is sent, with owner, group and mode, atomically and without leftovers; the probe digest matches ours', () => {
    const secrets = [secret('a b', { kind: 'env', name: 'A' }, { owner: me, group, mode: '0440' }), secret('c', { kind: 'env', name: 'C' }, { owner: me, group, mode: '0600', destination: join(dir, 'deep', 'er', 'c') })];
    const words = secrets.flatMap((s) => [s.destination, s.owner, s.group, s.mode]);
    const hostile = Buffer.from("it's $(rm -rf /) `x`\n\0end");
    const run = spawnSync('sh', ['-c', SECRETS_PUSH_SCRIPT, 'fleet-push-secrets', ...words], { input: pushSecretsInput([{ index: 1, content: hostile }]) });
    expect(run.status, run.stderr.toString()).toBe(0);
    expect(run.stdout.toString()).toBe(`wrote ${secrets[1]!.destination}\n`);
    expect(readFileSync(secrets[1]!.destination)).toEqual(hostile);
    expect(statSync(secrets[1]!.destination).mode & 0o777).toBe(0o600);
    expect(() => statSync(secrets[0]!.destination)).toThrow();
    expect(readdirSync(join(dir, 'deep', 'er'))).toEqual(['c']);

    const key = 'k'.repeat(32);
    const probe = spawnSync('sh', ['-c', PROBE_SCRIPT, 'fleet-probe', '-', '/etc/ssh', '--secrets', key, secrets[0]!.destination, secrets[1]!.destination], { encoding: 'utf8' });
    const facts = parseProbe(probe.stdout, 'local');
    expect(facts.secrets['0']).toBe('missing');
    expect(secretStates(secrets, facts.secrets, [Buffer.from('x'), hostile], key)).toEqual([{ kind: 'missing' }, { kind: 'in-place' }]);
    expect(secretStates(secrets, facts.secrets, [Buffer.from('x'), Buffer.from('other')], key)[1]).toEqual({ kind: 'differs', what: 'content differs' });
    expect(facts.secrets['1']).toBe(`${secretDigest(key, hostile)} ${me} ${group} 600`);
  });

  it.each([
    ['a directory', (path: string) => mkdirSync(path)],
    ['a link to a directory', (path: string) => {
      mkdirSync(`${path}.real`);
      symlinkSync(`${path}.real`, path);
    }],
  ])('refuses a destination that is %s before writing anything (exit 4), and leaves nothing behind', (_, make) => {
    const lab = join(dir, 'lab');
    make(lab);
    const secrets = [secret('first', { kind: 'env', name: 'F' }, { owner: me, group }), secret('lab', { kind: 'env', name: 'L' }, { owner: me, group, destination: lab })];
    const words = secrets.flatMap((s) => [s.destination, s.owner, s.group, s.mode]);
    const before = readdirSync(dir).sort();
    const run = spawnSync('sh', ['-c', SECRETS_PUSH_SCRIPT, 'fleet-push-secrets', ...words], { input: pushSecretsInput([{ index: 0, content: Buffer.from('one') }, { index: 1, content: Buffer.from('two') }]), encoding: 'utf8' });
    expect(run.status).toBe(4);
    expect(run.stdout).toBe(`directory=${lab}\n`);
    // Nothing written: not the other secret, not a temporary file inside the directory.
    expect(readdirSync(dir).sort()).toEqual(before);
    expect(readdirSync(lab)).toEqual([]);

    const upload = { secrets, push: pushSecretsCommand(undefined, secrets, true, 'before activation') };
    const failure = secretUploadFailure('web-1', 'secrets', upload, { exitCode: run.status, signal: null, stdout: run.stdout, stderr: run.stderr, timedOut: false }, false);
    expect(failure).toMatchObject({
      host: 'web-1',
      step: 'secrets',
      message: `secret lab (${lab}): the destination is a directory on the target (or a link to one), not a file; no secret was written`,
      hint: `a destination names the secret's file itself: set it to a path inside that directory (e.g. ${lab}/lab)`,
    });
  });

  it('refuses an owner or group the target lacks before writing anything (exit 3)', () => {
    const words = [join(dir, 'x'), me, group, '0400', join(dir, 'y'), 'no-such-user-fleet', 'no-such-group-fleet', '0400'];
    const run = spawnSync('sh', ['-c', SECRETS_PUSH_SCRIPT, 'fleet-push-secrets', ...words], { input: `0 ${Buffer.from('v').toString('base64')}\n`, encoding: 'utf8' });
    expect(run.status).toBe(3);
    expect(run.stdout).toBe('missing-user=no-such-user-fleet\nmissing-group=no-such-group-fleet\n');
    expect(readdirSync(dir)).toEqual([]);
  });
});
