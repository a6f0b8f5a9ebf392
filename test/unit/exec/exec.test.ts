// The process port against real processes: direct spawns, exit codes, stdin, and its timeouts.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { execProcess } from '../../../src/exec/index.js';

describe('execProcess', () => {
  it('runs the argv without a shell: words arrive as given', async () => {
    const run = await execProcess({ argv: ['printf', '%s|', 'a b', '$(id)', "it's"] });
    expect(run).toMatchObject({ exitCode: 0, stdout: "a b|$(id)|it's|", timedOut: false });
  });

  it('feeds stdin, streams lines, and returns a non-zero exit as data', async () => {
    const lines: string[] = [];
    const run = await execProcess({ argv: ['sh', '-c', 'cat; echo oops >&2; exit 3'], stdin: 'hello\n', onLine: (line, stream) => lines.push(`${stream}:${line}`) });
    expect(run).toMatchObject({ exitCode: 3, stdout: 'hello\n', stderr: 'oops\n' });
    expect(lines).toEqual(['stdout:hello', 'stderr:oops']);
  });

  it('finds a program on the PATH it is given (each PATH its own answer) and starts it under the name given', async () => {
    const dirs = [mkdtempSync(join(tmpdir(), 'fleet-exec-a-')), mkdtempSync(join(tmpdir(), 'fleet-exec-b-'))];
    dirs.forEach((dir, i) => {
      writeFileSync(join(dir, 'fleet-which'), `#!/bin/sh\necho ${i}\n`);
      chmodSync(join(dir, 'fleet-which'), 0o755);
    });
    const a = await execProcess({ argv: ['fleet-which'], env: { PATH: `${dirs[0]}:/usr/bin:/bin` } });
    const b = await execProcess({ argv: ['fleet-which'], env: { PATH: `${dirs[1]}:/usr/bin:/bin` } });
    expect([a.stdout, b.stdout]).toEqual(['0\n', '1\n']);
    // argv[0] is the name given, not the path found.
    const named = await execProcess({ argv: ['sh', '-c', 'tr "\\0" " " < /proc/$$/cmdline'] });
    expect(named.stdout.split(' ')[0]).toBe('sh');
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('answers exit 127 for a program that cannot start', async () => {
    const run = await execProcess({ argv: ['fleet-no-such-program'] });
    expect(run.exitCode).toBe(127);
    expect(run.stderr).toMatch(/fleet-no-such-program: .*ENOENT/);
    expect(run.notStarted).toBe('ENOENT');
  });

  it('kills a process that prints nothing for idleTimeoutMs, and lets one that keeps printing finish', async () => {
    const stalled = await execProcess({ argv: ['sh', '-c', 'echo started; exec sleep 30'], idleTimeoutMs: 300 });
    expect(stalled).toMatchObject({ stalled: true, exitCode: null, signal: 'SIGTERM', stdout: 'started\n' });
    const busy = await execProcess({ argv: ['sh', '-c', 'for i in 1 2 3 4 5; do echo $i; sleep 0.05; done'], idleTimeoutMs: 5000 });
    expect(busy).toMatchObject({ exitCode: 0, stdout: '1\n2\n3\n4\n5\n' });
    expect(busy.stalled).toBeUndefined();
  });

  it('kills a process past timeoutMs', async () => {
    const run = await execProcess({ argv: ['sleep', '30'], timeoutMs: 200 });
    expect(run).toMatchObject({ timedOut: true, exitCode: null, signal: 'SIGTERM' });
  });
});

describe('execProcess kills what it started', () => {
  it('a process it kills does not keep the run waiting on a child that holds its pipes', async () => {
    // sh starts a child that inherits stdout and would print for a minute: the kill ends both.
    const started = Date.now();
    const run = await execProcess({ argv: ['sh', '-c', 'sleep 60 & echo started; wait'], idleTimeoutMs: 300 });
    expect(run).toMatchObject({ stalled: true, stdout: 'started\n' });
    // Not a speed goal: without the kill of the child, this call only returns when sleep 60 ends.
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});
