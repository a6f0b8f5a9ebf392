// The run's result roots: fresh out-links per build, --keep-result's root per host, and only this
// run's links removed at the end (another run of the same manifest keeps its own).
import { existsSync, mkdtempSync, readdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunResults } from '../../../src/backends/index.js';
import type { ExecRequest, ExecResult } from '../../../src/exec/index.js';
import { keepResultCommand } from '../../../src/plan/index.js';

describe('RunResults', () => {
  it('hands out a fresh out-link per build and removes only its own links when the run ends', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'fleet-results-')), 'results');
    const results = new RunResults({ dir });
    results.prepare();
    const first = results.nextLink();
    const second = results.nextLink();
    expect(first).not.toBe(second);
    // What Nix makes of them: the link, and `-1`, `-2`… for a build's further results.
    symlinkSync('/nix/store/a', first);
    symlinkSync('/nix/store/b', `${first}-1`);
    symlinkSync('/nix/store/c', second);
    symlinkSync('/nix/store/d', join(dir, '999-other-1'));
    results.release();
    expect(readdirSync(dir)).toEqual(['999-other-1']);
  });

  it('--keep-result: one root per built system in the keep directory; a failure is a line, not a throw', async () => {
    const base = mkdtempSync(join(tmpdir(), 'fleet-keep-'));
    const keep = { dir: join(base, 'gcroots'), command: keepResultCommand() };
    const calls: string[][] = [];
    const exec = async (request: ExecRequest): Promise<ExecResult> => {
      calls.push([...request.argv]);
      const failed = request.argv.includes('/nix/store/bad');
      return { exitCode: failed ? 1 : 0, signal: null, stdout: '', stderr: failed ? 'error: path is not valid\n' : '', timedOut: false };
    };
    const results = new RunResults({ dir: join(base, 'results'), keep });
    const problems = await results.keep(new Map([['web-1', '/nix/store/good'], ['web-2', '/nix/store/bad']]), exec);
    expect(calls[0]).toEqual(['nix-store', '--add-root', join(keep.dir, 'web-1'), '--indirect', '--realise', '/nix/store/good']);
    expect(problems).toEqual(['web-2: keeping the result failed: error: path is not valid']);
    expect(existsSync(keep.dir)).toBe(true);
    // Without --keep-result nothing runs.
    expect(await new RunResults({ dir: join(base, 'results') }).keep(new Map([['web-1', '/nix/store/good']]), exec)).toEqual([]);
    expect(calls).toHaveLength(2);
  });
});
