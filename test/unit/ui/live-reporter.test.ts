// The live reporter's drawing: redraws in place, follows a resize, and lets a stray write through
// without tearing the frame.
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { LiveReporter } from '../../../src/ui/index.js';
import { scriptPlan } from './event-script.js';

class FakeTerminal extends EventEmitter {
  isTTY = true;
  columns = 100;
  rows = 40;
  chunks: string[] = [];
  write(chunk: string | Uint8Array): boolean {
    this.chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  }
}

/** The lines a write drew after its erase (`\r ESC[nA ESC[J`), and how many rows it went up. */
function parse(chunk: string): { up: number; lines: string[] } {
  const m = /^\r\u001b\[(\d+)A\u001b\[J/.exec(chunk);
  const body = m ? chunk.slice(m[0].length) : chunk;
  return { up: m ? Number(m[1]) : 0, lines: body.split('\n').slice(0, -1) };
}

const start = (host: string) => [
  { type: 'host-start', host },
  { type: 'step-start', host, step: 'deploy', title: 'deploy switch' },
  { type: 'step-line', host, step: 'deploy', line: `output of ${host} `.repeat(8) },
] as const;

describe('live reporter', () => {
  it('redraws in place and fits a resized terminal, counting the rows a reflowed frame takes', async () => {
    const term = new FakeTerminal();
    let now = 1_000;
    const reporter = new LiveReporter({ stream: term as unknown as NodeJS.WritableStream, plan: scriptPlan(), now: () => now });
    for (const e of [...start('web-1'), ...start('web-2'), ...start('vps-pacman')]) reporter.emit(e);
    // The first frame: header and the first host (drawn at the first event).
    const first = parse(term.chunks.at(-1)!);
    expect(first.up).toBe(0);
    expect(first.lines[0]).toMatch(/^fleet {2}0\/3 done/);

    now += 1_000;
    term.emit('resize');
    const full = parse(term.chunks.at(-1)!);
    expect(full.up).toBe(first.lines.length);
    expect(full.lines).toHaveLength(4);
    const widths = full.lines.map((l) => [...l].length);
    expect(Math.max(...widths)).toBe(99);

    term.columns = 30;
    term.rows = 3;
    now += 1_000;
    term.emit('resize');
    const small = parse(term.chunks.at(-1)!);
    // The old lines were up to 99 wide: a terminal that reflows wrapped each onto several rows.
    expect(small.up).toBe(widths.reduce((sum, w) => sum + Math.ceil(w / 30), 0));
    expect(small.lines).toHaveLength(2);
    expect(small.lines[1]).toBe('… +3 more running');
    for (const line of small.lines) expect([...line].length).toBeLessThan(30);
    await reporter.close();
  });

  it('erases the frame for a stray write, then draws it again below', async () => {
    const term = new FakeTerminal();
    const reporter = new LiveReporter({ stream: term as unknown as NodeJS.WritableStream, plan: scriptPlan() });
    for (const e of start('web-1')) reporter.emit(e);
    const drawn = parse(term.chunks.at(-1)!).lines.length;
    term.chunks.length = 0;
    term.write('a warning\n');
    expect(term.chunks[0]).toBe(`\r\u001b[${drawn}A\u001b[J`);
    expect(term.chunks[1]).toBe('a warning\n');
    expect(parse(term.chunks[2]!).up).toBe(0);
    expect(parse(term.chunks[2]!).lines[0]).toMatch(/^fleet /);
    await reporter.close();
    // After close the terminal's own write is back.
    term.chunks.length = 0;
    term.write('after\n');
    expect(term.chunks).toEqual(['after\n']);
  });

  it('draws for 80×24 on a terminal that says 0×0 (a pty nobody sized)', async () => {
    const term = new FakeTerminal();
    term.columns = 0;
    term.rows = 0;
    const reporter = new LiveReporter({ stream: term as unknown as NodeJS.WritableStream, plan: scriptPlan() });
    for (const e of [...start('web-1'), ...start('web-2')]) reporter.emit(e);
    term.emit('resize');
    const { lines } = parse(term.chunks.at(-1)!);
    expect(lines).toHaveLength(3);
    for (const line of lines) expect([...line].length).toBeLessThan(80);
    expect(Math.max(...lines.map((l) => [...l].length))).toBe(79);
    await reporter.close();
  });
});
