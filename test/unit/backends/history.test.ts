// The deploy history: the append script (run for real with sh on a temporary file), the record's
// one-line form, reading it back, and how generations, status and fleet history show it.
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { historyLine, historyRecord, parseGenerations, parseHistoryLines, readHistory, type HistoryRecord } from '../../../src/backends/index.js';
import type { Exec } from '../../../src/exec/index.js';
import { APPEND_HISTORY_SCRIPT, appendHistoryCommand, HISTORY_FILE, HISTORY_OF_FUNCTION, historyCommand, resolveArgv } from '../../../src/plan/index.js';
import { formatGenerations, formatHistory } from '../../../src/ui/index.js';

const run = promisify(execFile);
let dir: string;
let env: NodeJS.ProcessEnv;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fleet-history-'));
  // chown 0:0 needs root; the shim lets the script run the same way as any user.
  mkdirSync(join(dir, 'bin'));
  writeFileSync(join(dir, 'bin', 'chown'), '#!/bin/sh\nexit 0\n');
  chmodSync(join(dir, 'bin', 'chown'), 0o755);
  env = { ...process.env, PATH: `${join(dir, 'bin')}:${process.env.PATH}` };
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

const provenance = { operator: 'alice@laptop', ci: null, revision: '0123456789abcdef0123456789abcdef01234567-dirty', fleetVersion: '0.1.0' };

function record(n: number, extra: Partial<HistoryRecord> = {}): HistoryRecord {
  return {
    ...historyRecord(provenance, { time: Date.UTC(2026, 10, 30, 18, 0, n), host: 'web-1', action: 'deploy', mode: 'switch', system: `/nix/store/${String(n).repeat(32).slice(0, 32)}-nixos-system-web-1`, generation: n }),
    ...extra,
  };
}

function append(file: string, line: string) {
  return run('sh', ['-c', APPEND_HISTORY_SCRIPT, 'fleet-history', file, line], { env });
}

describe('APPEND_HISTORY_SCRIPT', () => {
  it('appends one line per record, 0644, creating the directory; what was there stays as it was', async () => {
    const file = join(dir, 'var', 'fleet', 'history.jsonl');
    expect((await append(file, historyLine(record(1)))).stdout).toBe('recorded\n');
    const first = readFileSync(file, 'utf8');
    await append(file, historyLine(record(2)));
    const text = readFileSync(file, 'utf8');
    expect(text.startsWith(first)).toBe(true);
    expect(parseHistoryLines(text.split('\n'))).toEqual({ records: [record(1), record(2)], unreadable: 0 });
    expect(statSync(file).mode & 0o777).toBe(0o644);
    expect(statSync(join(dir, 'var', 'fleet')).mode & 0o777).toBe(0o755);
  });

  it('ends a cut-off last line first, so the new record is a line of its own', async () => {
    const file = join(dir, 'history.jsonl');
    writeFileSync(file, '{"cut off');
    await append(file, historyLine(record(3)));
    expect(parseHistoryLines(readFileSync(file, 'utf8').split('\n'))).toEqual({ records: [record(3)], unreadable: 1 });
  });

  it('refuses anything but one JSON object on one line', async () => {
    const file = join(dir, 'history.jsonl');
    await expect(append(file, '{"a":1}\n{"b":2}')).rejects.toThrow(/more than one line/);
    await expect(append(file, 'rm -rf /')).rejects.toThrow(/not one JSON object/);
  });

  it('loses no record when runs append at once (its own flock), and leaves no temporary file', async () => {
    const file = join(dir, 'history.jsonl');
    await Promise.all(Array.from({ length: 8 }, (_, i) => append(file, historyLine(record(i + 1)))));
    const { records } = parseHistoryLines(readFileSync(file, 'utf8').split('\n'));
    expect(records.map((r) => r.generation).sort()).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect((await run('ls', ['-A', dir])).stdout.split('\n').filter((n) => n.startsWith('.history.') && n !== '.history.lock')).toEqual([]);
  });
});

describe('HISTORY_OF_FUNCTION (fleet status)', () => {
  it('finds the newest record of exactly that system, and nothing for another or none', async () => {
    const file = join(dir, 'history.jsonl');
    const [a, b, c] = [record(1), record(2), { ...record(1), action: 'rollback' as const, operator: 'bob@desk' }];
    writeFileSync(file, [a, b, c].map(historyLine).join('\n') + '\n');
    const of = async (system: string) => (await run('sh', ['-c', `${HISTORY_OF_FUNCTION}\nfleet_history_of "$1" "$2"`, 'x', file, system])).stdout;
    expect(await of(a.system)).toBe(`history=${historyLine(c)}\n`);
    expect(await of(b.system)).toBe(`history=${historyLine(b)}\n`);
    expect(await of(`${a.system}-other`)).toBe('');
    expect(await of('/nix/store/x')).toBe('');
    expect(await of('')).toBe('');
  });
});

describe('the planned commands', () => {
  it('pass the record as one word to the script, through sudo for a local target unless fleet is root', () => {
    const line = historyLine(record(1));
    expect(resolveArgv(appendHistoryCommand(undefined, true).argv, { historyRecord: line })).toEqual(['sh', '-c', APPEND_HISTORY_SCRIPT, 'fleet-history', HISTORY_FILE, line]);
    expect(resolveArgv(appendHistoryCommand(undefined, false).argv, { historyRecord: line }).slice(0, 3)).toEqual(['sudo', '-n', '--']);
    expect(historyCommand(undefined).slice(-2)).toEqual(['fleet-history', HISTORY_FILE]);
  });
});

describe('reading the history', () => {
  it('counts lines that are no record instead of guessing at them', () => {
    const lines = [historyLine(record(1)), 'garbage', '{"recordVersion":1}', '', historyLine(record(2))];
    expect(parseHistoryLines(lines)).toEqual({ records: [record(1), record(2)], unreadable: 2 });
  });

  it('reads the prefixed lines of one call, and says when the host cannot be reached', async () => {
    const answer = (stdout: string, exitCode = 0, stderr = ''): Exec => async () => ({ exitCode, stdout, stderr, signal: null, timedOut: false });
    const read = await readHistory(['x'], answer(`record=${historyLine(record(1))}\nrecord=${historyLine(record(2))}\nend=ok\n`), { sshTarget: true });
    expect(read).toEqual({ records: [record(1), record(2)], unreadable: 0 });
    expect(await readHistory(['x'], answer('end=ok\n'), { sshTarget: true })).toEqual({ records: [], unreadable: 0 });
    expect(await readHistory(['x'], answer('', 255, 'ssh: connect to host h port 22: Connection refused\n'), { sshTarget: true })).toMatchObject({ unreachable: true, error: expect.stringMatching(/^cannot reach the host/) });
    expect(await readHistory(['x'], answer(`record=${historyLine(record(1))}\n`), { sshTarget: true })).toMatchObject({ error: 'the history listing was cut off' });
  });

  it('fleet history lists newest first, with revision and operator', () => {
    const ci = { system: 'github-actions', actor: 'octocat', runUrl: 'https://github.com/o/r/actions/runs/1' };
    const failed = { ...record(3), outcome: "health check 'http' failed" };
    const lines = formatHistory('web-1', [record(1), record(2, { operator: 'octocat', ci, revision: 'fedcba9876543210fedcba9876543210fedcba98', action: 'rollback' }), failed], 1);
    expect(lines[0]).toBe('web-1:');
    expect(lines[1]).toMatch(/^ {2}TIME +ACTION +MODE +GEN +REVISION +BY +SYSTEM +OUTCOME$/);
    expect(lines[2]).toMatch(/^ {2}2026-11-30 18:00:03Z +deploy +switch +3 +\S+ +alice@laptop +\S+ +health check 'http' failed$/);
    expect(lines[3]).toMatch(/^ {2}2026-11-30 18:00:02Z +rollback +switch +2 +fedcba987654 +octocat \(github-actions\) +\/nix\/store\/…-nixos-system-web-1 +verified$/);
    expect(lines[4]).toMatch(/^ {2}2026-11-30 18:00:01Z +deploy +switch +1 +0123456789ab-dirty +alice@laptop /);
    expect(lines[5]).toBe('  1 line(s) of the history are no record fleet wrote; left out');
    // A record written before outcomes were recorded was written for a verified change only.
    const { outcome: _none, ...old } = record(4);
    expect(formatHistory('web-1', [old], 0)[2]).toMatch(/ verified$/);
    expect(formatHistory('db', [], 0)).toEqual(['db: no deploy recorded by fleet yet']);
  });

  it('fleet generations shows who deployed each generation and from which revision', () => {
    const r1 = record(1);
    const r2 = record(2);
    const stdout = [
      'list=   1   2026-11-30 18:00:01',
      'list=   2   2026-11-30 18:00:02   (current)',
      'list=   3   2026-11-30 18:00:03',
      `link=1 ${r1.system}`,
      `link=2 ${r2.system}`,
      'link=3 /nix/store/cccccccccccccccccccccccccccccccc-by-hand',
      `history=${historyLine(r1)}`,
      `history=${historyLine(r2)}`,
      `history=${historyLine({ ...r2, action: 'rollback', operator: 'bob@desk', time: '2026-11-30T19:00:00.000Z' })}`,
      'default=2',
      `current=${r2.system}`,
      `booted=${r1.system}`,
      'end=ok',
    ].join('\n');
    const list = parseGenerations(stdout)!;
    expect(list.generations.map((g) => g.record?.generation ?? null)).toEqual([1, 2, null]);
    // A rollback to a generation fleet never deployed says nothing about who made it.
    const rolledToFirst = parseGenerations(stdout.replace('history=', `history=${historyLine({ ...r1, system: '/nix/store/cccccccccccccccccccccccccccccccc-by-hand', generation: 3, action: 'rollback' })}\nhistory=`))!;
    expect(rolledToFirst.generations[2]!.record).toBeUndefined();
    // A generation shows the deploy that made it; the live system, whoever made it live last.
    expect(list.generations[1]!.record).toEqual(r2);
    expect(list.liveRecord).toMatchObject({ action: 'rollback', operator: 'bob@desk' });
    const table = formatGenerations('web-1', list);
    expect(table[1]).toMatch(/GEN +DATE +REVISION +BY +SYSTEM/);
    expect(table[3]).toMatch(/^ {2}2 +2026-11-30 18:00:02 +0123456789ab-dirty +alice@laptop +\/nix\/store\/2+-nixos-system-web-1 +\(live, boot default\)$/);
    expect(table[4]).toMatch(/^ {2}3 +2026-11-30 18:00:03 +- +- +/);
  });
});
