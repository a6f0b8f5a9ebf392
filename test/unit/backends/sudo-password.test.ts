// withSudoPassword: the password ahead of each wrapped command's stdin (strings, bytes, streams), redaction, per-host prompts after a refusal.
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { withSudoPassword } from '../../../src/backends/index.js';
import type { ExecRequest, ExecResult } from '../../../src/exec/index.js';
import { PASSWORD_REFUSED_EXIT, PASSWORD_REFUSED_LINE, sshCommand, takesPassword, type SshSettings } from '../../../src/ssh/index.js';

const settings = (host: string): SshSettings => ({
  endpoint: { kind: 'ssh', user: 'admin', host, port: 22 },
  knownHostsFiles: [],
  trustOnFirstUse: false,
  extraOptions: [],
  connectTimeout: 5,
  escalation: { method: 'sudo', askPassword: true },
});

async function text(stdin: ExecRequest['stdin']): Promise<string> {
  if (stdin === undefined) return '';
  if (typeof stdin === 'string') return stdin;
  if (Buffer.isBuffer(stdin)) return stdin.toString();
  const chunks: Buffer[] = [];
  for await (const chunk of stdin as Readable) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString();
}

/** A fake process port: the target's sudo takes `accepts[host]`; records what each call got. */
function fakeTargets(accepts: Record<string, string>) {
  const calls: { host: string; stdin: string; secrets: readonly string[] }[] = [];
  const exec = async (request: ExecRequest): Promise<ExecResult> => {
    const host = request.argv[request.argv.indexOf('--') + 1]!.split('@')[1]!;
    const stdin = await text(request.stdin);
    calls.push({ host, stdin, secrets: (request.secrets ?? []).map(String) });
    const [first] = stdin.split('\n');
    if (takesPassword(request.argv) && first !== accepts[host]) return { exitCode: PASSWORD_REFUSED_EXIT, signal: null, stdout: '', stderr: `Sorry, try again.\n${PASSWORD_REFUSED_LINE}\n`, timedOut: false };
    return { exitCode: 0, signal: null, stdout: `got ${JSON.stringify(stdin.split('\n').slice(2).join('\n'))}`, stderr: '', timedOut: false };
  };
  return { calls, exec };
}

describe('withSudoPassword', () => {
  it('puts the password (twice) ahead of a string, bytes or a stream, and leaves other commands alone', async () => {
    const { calls, exec } = fakeTargets({ a: 'pw' });
    const run = withSudoPassword(exec, 'pw');
    await run({ argv: sshCommand(settings('a'), ['sh', '-c', 'x']), stdin: 'data\n' });
    await run({ argv: sshCommand(settings('a'), ['sh', '-c', 'x']), stdin: Buffer.from('bytes\n') });
    const stream = new PassThrough();
    const streamed = run({ argv: sshCommand(settings('a'), ['sh', '-c', 'x']), stdin: stream });
    stream.write('?question\n');
    setTimeout(() => stream.end('.'), 10);
    await streamed;
    await run({ argv: sshCommand(settings('a'), ['sh', '-c', 'x']) });
    const plain = await run({ argv: sshCommand({ ...settings('a'), escalation: { method: 'sudo', askPassword: false } }, ['true']), stdin: 'untouched' });
    expect(calls.map((c) => c.stdin)).toEqual(['pw\npw\ndata\n', 'pw\npw\nbytes\n', 'pw\npw\n?question\n.', 'pw\npw\n', 'untouched']);
    expect(plain.exitCode).toBe(0);
    // Every command's output is redacted of it, whether it takes it or not.
    for (const c of calls) expect(c.secrets).toContain('pw');
  });

  it('without a way to ask again, a refusal is the wrapper`s one line', async () => {
    const { exec } = fakeTargets({ a: 'other' });
    const result = await withSudoPassword(exec, 'pw')({ argv: sshCommand(settings('a'), ['true']) });
    expect(result).toMatchObject({ exitCode: PASSWORD_REFUSED_EXIT, stderr: `${PASSWORD_REFUSED_LINE}\n` });
  });

  it('asks for a refusing host`s own password once, replays the stream from its start, and keeps it for that host only', async () => {
    const { calls, exec } = fakeTargets({ a: 'pw', b: 'b-own' });
    const asked: string[] = [];
    const run = withSudoPassword(exec, 'pw', async (subject) => {
      asked.push(subject);
      return 'b-own';
    });
    const stream = new PassThrough();
    stream.write('?first\n');
    const locked = run({ argv: sshCommand(settings('b'), ['sh', '-c', 'lock']), stdin: stream });
    setTimeout(() => stream.end('?second\n'), 20);
    const result = await locked;
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(`got ${JSON.stringify('?first\n?second\n')}`);
    await run({ argv: sshCommand(settings('b'), ['true']) });
    await run({ argv: sshCommand(settings('a'), ['true']) });
    expect(asked).toEqual(['admin@b']);
    expect(calls.map((c) => [c.host, c.stdin.split('\n')[0]])).toEqual([['b', 'pw'], ['b', 'b-own'], ['b', 'b-own'], ['a', 'pw']]);
    // The host's own password is redacted too.
    expect(calls.at(-1)!.secrets).toEqual(expect.arrayContaining(['pw', 'b-own']));
  });

  it('gives up on a host when the answer is empty, and asks at most twice', async () => {
    const { exec } = fakeTargets({ c: 'never-typed' });
    let asked = 0;
    const empty = withSudoPassword(exec, 'pw', async () => {
      asked++;
      return '';
    });
    expect((await empty({ argv: sshCommand(settings('c'), ['true']) })).exitCode).toBe(PASSWORD_REFUSED_EXIT);
    expect((await empty({ argv: sshCommand(settings('c'), ['true']) })).exitCode).toBe(PASSWORD_REFUSED_EXIT);
    expect(asked).toBe(1);
    let wrong = 0;
    const stubborn = withSudoPassword(exec, 'pw', async () => `wrong-${++wrong}`);
    expect((await stubborn({ argv: sshCommand(settings('c'), ['true']) })).exitCode).toBe(PASSWORD_REFUSED_EXIT);
    expect(wrong).toBe(2);
  });

  it('refuses a password with a line break: it would end the line sudo reads', () => {
    const { exec } = fakeTargets({});
    expect(() => withSudoPassword(exec, 'a\nb')).toThrow(/line break/);
  });
});
