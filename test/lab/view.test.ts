// The compact live view on a real pseudo-terminal, replayed onto a strict 12-row screen: one line per
// running host, nothing scrolled away while the run goes, no line wider than the terminal.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from './lab.js';
import { runFleetInTerminal, writeLabManifest } from './fleet-harness.js';
import { replayFrames, Screen } from './screen.js';

const NAMES = Array.from({ length: 30 }, (_, i) => `v${String(i + 1).padStart(2, '0')}`);
const FIRST_EIGHT = NAMES.slice(0, 8);
const ROWS = 12;
/** `fleet  3/30 done · 0 failed · 10 running · 17 waiting  4s` */
const HEADER = /^fleet {2}(\d+)\/(\d+) done · (\d+) failed · (\d+) running(?: · (\d+) waiting)? {2}\S+$/;
/** Where the summary table starts: the live view is over. */
const SUMMARY = /\r?\nHOST +OUTCOME +STEP +TIME +(UPLOADED +)?REASON/;

describe('the compact live view on a terminal', () => {
  let lab: Lab;
  let manifest: string;

  beforeAll(async () => {
    // The first eight activate slowly, so that all eight are running at the same time.
    lab = await startLab({
      hosts: NAMES.map((name, i) => ({ name, state: 'installed' as const, ...(i < 8 ? { variant: 'slow' as const } : {}) })),
      slowSeconds: 6,
    });
    manifest = writeLabManifest(lab, mkdtempSync(join(tmpdir(), 'fleet-view-')), NAMES.map((name) => ({ name })));
  }, 240_000);

  afterAll(async () => {
    await lab?.stop();
  });

  it('8 hosts on a 12-row terminal: every host on screen at once, nothing scrolls until the summary', async () => {
    lab.setRevision(2);
    const columns = 100;
    const run = await runFleetInTerminal(lab, ['apply', '-f', manifest, ...FIRST_EIGHT], undefined, 180_000, { columns, rows: ROWS });
    expect(run.code, run.screen).toBe(0);
    for (const name of FIRST_EIGHT) expect(lab.currentSystem(name)).toMatch(new RegExp(`-nixos-system-${name}-.*-r2$`));

    const summaryAt = run.raw.search(SUMMARY);
    expect(summaryAt, run.screen).toBeGreaterThan(0);
    const screen = new Screen(columns, ROWS);
    let allEightAtOnce = false;
    let frames = 0;
    replayFrames(screen, run.raw.slice(0, summaryAt), (lines) => {
      if (lines.some((l) => HEADER.test(l))) frames += 1;
      const running = FIRST_EIGHT.filter((name) => lines.some((l) => new RegExp(`^\\S ${name} +(probe|deploy|verify|lock) `).test(l)));
      if (running.length === FIRST_EIGHT.length) allEightAtOnce = true;
    });
    expect(allEightAtOnce, run.screen).toBe(true);
    // Redrawn in place, many times, and not one line pushed off the top nor wrapped.
    expect(frames).toBeGreaterThan(10);
    expect(screen.scrolls).toBe(0);
    expect(screen.wraps).toBe(0);
    // The final screen: the view's last counts, then the summary table below them.
    expect(screen.lines()).toContainEqual(expect.stringMatching(/^fleet {2}8\/8 done · 0 failed · 0 running {2}\S+$/));
    screen.feed(run.raw.slice(summaryAt));
    const end = screen.lines();
    for (const name of FIRST_EIGHT) expect(end).toContainEqual(expect.stringMatching(new RegExp(`^${name} +changed +verify `)));
  }, 240_000);

  it('30 hosts on a 12-row terminal: the header counts are right and no line is wider than the terminal', async () => {
    for (const name of FIRST_EIGHT) lab.setVariant(name, 'good');
    lab.setRevision(3);
    const columns = 60;
    const run = await runFleetInTerminal(lab, ['apply', '-f', manifest], undefined, 240_000, { columns, rows: ROWS });
    expect(run.code, run.screen).toBe(0);
    for (const name of NAMES) expect(lab.currentSystem(name)).toMatch(new RegExp(`-nixos-system-${name}-.*-r3$`));

    const summaryAt = run.raw.search(SUMMARY);
    expect(summaryAt, run.screen).toBeGreaterThan(0);
    const screen = new Screen(columns, ROWS);
    const seen = { headers: 0, moreRunning: false, maxRunning: 0 };
    let lastDone = 0;
    replayFrames(screen, run.raw.slice(0, summaryAt), (lines) => {
      const header = lines.map((l) => HEADER.exec(l)).find(Boolean);
      if (!header) return;
      seen.headers += 1;
      const [done, total, failed, running, waiting] = header.slice(1).map((n) => Number(n ?? 0));
      expect(total).toBe(30);
      expect(failed).toBe(0);
      expect(done! + running! + waiting!).toBe(30);
      // The manifest's default parallel: 10 hosts at once.
      expect(running).toBeLessThanOrEqual(10);
      expect(done).toBeGreaterThanOrEqual(lastDone);
      lastDone = done!;
      seen.maxRunning = Math.max(seen.maxRunning, running!);
      const shown = lines.filter((l) => /^\S v\d\d /.test(l)).length;
      const more = lines.map((l) => /^… \+(\d+) more running$/.exec(l)).find(Boolean);
      if (more) {
        seen.moreRunning = true;
        expect(shown + Number(more[1])).toBe(running);
      } else expect(shown).toBe(running);
    });
    expect(seen.headers).toBeGreaterThan(10);
    // More hosts ran at once than fit under the header: the view counted the rest.
    expect(seen.maxRunning).toBeGreaterThan(ROWS - 3);
    expect(seen.moreRunning).toBe(true);
    expect(screen.wraps).toBe(0);
    expect(screen.scrolls).toBe(0);
    expect(screen.lines()).toContainEqual(expect.stringMatching(/^fleet {2}30\/30 done · 0 failed · 0 running {2}\S+$/));
  }, 300_000);
});
