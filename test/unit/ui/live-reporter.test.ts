// The live reporter's drawing: redraws in place, follows a resize, and lets a stray write through
// without tearing the frame.
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { LiveReporter } from '../../../src/ui/index.js';
import { Screen } from '../../lab/screen.js';
import { LAB_TOOL_DIFF, PACMAN, scriptPlan, WEB1 } from './event-script.js';

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

/** Escape sequences that clear the screen from the cursor down, or all of it: never written. */
// eslint-disable-next-line no-control-regex
const CLEAR_SCREEN = /\u001b\[[0-2]?J/;

/**
 * A redraw: back up `up` rows to the old frame's first line, each new line written over an old one
 * (`ESC[K` erases the rest of it), then `cleared` old lines below the new frame erased, each in place.
 */
function parse(chunk: string): { up: number; lines: string[]; cleared: number } {
  expect(chunk).not.toMatch(CLEAR_SCREEN);
  const head = /^\r\u001b\[(\d+)A/.exec(chunk);
  let body = head ? chunk.slice(head[0].length) : chunk;
  const tail = /(?:\u001b\[2K\n)+\u001b\[(\d+)A$/.exec(body);
  if (tail) body = body.slice(0, tail.index);
  const lines = body.split('\n').slice(0, -1);
  for (const line of lines) expect(line).toMatch(/\u001b\[K$/);
  return { up: head ? Number(head[1]) : 0, lines: lines.map((line) => line.slice(0, -3)), cleared: tail ? Number(tail[1]) : 0 };
}

/** An erase of the frame: from its last line up, each line erased in place; `rows` lines. */
function erasure(chunk: string): number {
  const m = /^\r((?:\u001b\[1A\u001b\[2K)+)/.exec(chunk);
  expect(m, JSON.stringify(chunk)).not.toBeNull();
  return m![1]!.length / '\u001b[1A\u001b[2K'.length;
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
    // The old rows below the smaller frame are erased, each in place.
    expect(small.cleared).toBe(small.up - small.lines.length);
    for (const line of small.lines) expect([...line].length).toBeLessThan(30);
    await reporter.close();
  });

  it('redraws from the top of a screen without pushing a line into its scrollback', async () => {
    const term = new FakeTerminal();
    term.rows = 12;
    let now = 1_000;
    const reporter = new LiveReporter({ stream: term as unknown as NodeJS.WritableStream, plan: scriptPlan(), now: () => now });
    // A fresh pane: the frame starts at the home position, where "clear down" clears the whole screen.
    const screen = new Screen(term.columns, term.rows);
    // A terminal's line discipline turns each \n into \r\n (onlcr).
    const feed = () => screen.feed(term.chunks.splice(0).join('').replaceAll('\n', '\r\n'));
    for (const e of [...start('web-1'), ...start('web-2'), ...start('vps-pacman')]) reporter.emit(e);
    for (let tick = 0; tick < 5; tick++) {
      now += 1_000;
      term.emit('resize');
      feed();
    }
    expect(screen.lines().filter(Boolean), JSON.stringify(screen.lines())).toHaveLength(4);
    // Two hosts finish: the frame gets shorter, and what it no longer covers is blank.
    reporter.emit({ type: 'host-done', outcome: { ...WEB1 } });
    reporter.emit({ type: 'host-done', outcome: { ...PACMAN } });
    now += 1_000;
    term.emit('resize');
    feed();
    expect(screen.lines().filter(Boolean)).toEqual([expect.stringMatching(/^fleet {2}2\/3 done · 0 failed · 1 running {2}\S+$/), expect.stringMatching(/^\S web-2 +deploy /)]);
    expect(screen.history).toEqual([]);
    expect(screen.scrolls).toBe(0);
    await reporter.close();
    feed();
    expect(screen.history).toEqual([]);
    expect(screen.lines()[0]).toMatch(/^fleet {2}2\/3 done/);
  });

  it('erases the frame for a stray write, then draws it again below', async () => {
    const term = new FakeTerminal();
    const reporter = new LiveReporter({ stream: term as unknown as NodeJS.WritableStream, plan: scriptPlan() });
    for (const e of start('web-1')) reporter.emit(e);
    const drawn = parse(term.chunks.at(-1)!).lines.length;
    term.chunks.length = 0;
    term.write('a warning\n');
    expect(term.chunks[0]).toBe(`\r${'\u001b[1A\u001b[2K'.repeat(drawn)}`);
    expect(term.chunks[1]).toBe('a warning\n');
    expect(parse(term.chunks[2]!).up).toBe(0);
    expect(parse(term.chunks[2]!).lines[0]).toMatch(/^fleet /);
    await reporter.close();
    // After close the terminal's own write is back.
    term.chunks.length = 0;
    term.write('after\n');
    expect(term.chunks).toEqual(['after\n']);
  });

  it('apply --diff: a host\'s diff is written for good where the frame was, and the frame is drawn again below', async () => {
    const term = new FakeTerminal();
    const reporter = new LiveReporter({ stream: term as unknown as NodeJS.WritableStream, plan: scriptPlan() });
    for (const e of start('web-1')) reporter.emit(e);
    const drawn = parse(term.chunks.at(-1)!).lines.length;
    term.chunks.length = 0;
    reporter.emit({
      type: 'host-diff',
      host: 'web-1',
      diff: LAB_TOOL_DIFF,
    });
    const rows = erasure(term.chunks[0]!);
    expect(rows).toBe(drawn);
    expect(term.chunks[0]!.slice(1 + rows * 8).split('\n').slice(0, -1)).toEqual([
      'web-1: /nix/store/x → /nix/store/y',
      '  changed  lab-tool  1.0 → 1.1  +8.0 KiB',
      '  closure  2 → 2 paths (2 added, 2 removed), 4.0 KiB → 12.0 KiB (+8.0 KiB)',
    ]);
    const frame = parse(term.chunks[1]!);
    expect(frame.up).toBe(0);
    expect(frame.lines.join('\n')).toMatch(/web-1 .*diff: 1 package changed; closure \+8\.0 KiB/);
    await reporter.close();
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
