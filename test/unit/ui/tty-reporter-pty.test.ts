// The live tree and the compact live view on a real pseudo-terminal (util-linux `script`), sized and
// unsized, as `fleet apply` draws them; the compact view replayed onto a terminal with a scrollback.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { collapsedHostLine } from '../../../src/ui/index.js';
import { Screen } from '../../lab/screen.js';
import { AFTER_LINE, PACMAN, STRAY_LINE, WEB1, WEB2 } from './event-script.js';

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g;
/** log-update's erase of the previous frame: clear a line, move up. Plain lines never contain it. */
const ERASE_LINE_UP = '\u001b[2K\u001b[1A';
/** The end of an erase: back to column 1, where the next frame starts. */
const FRAME_START = '\u001b[G';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const tsx = fileURLToPath(new URL('../../../node_modules/.bin/tsx', import.meta.url));
const driver = fileURLToPath(new URL('./pty-driver.ts', import.meta.url));

/**
 * The bytes the driver leaves on a pty of that `stty` size (`script` must exist: no skip), `\r`
 * taken out unless `raw`; `view: 'compact'` plays the compact view instead of the tree.
 */
function runOnPty(size: string, view: 'tree' | 'compact' = 'tree', raw = false): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'script',
      ['-qefc', `stty ${size} && "$PTY_TSX" "$PTY_DRIVER"`, '/dev/null'],
      { cwd: root, timeout: 60_000, env: { ...process.env, PTY_TSX: tsx, PTY_DRIVER: driver, PTY_VIEW: view } },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`script failed: ${error.message}\n${stdout}\n${stderr}`));
        else resolve(raw ? stdout : stdout.replaceAll('\r', ''));
      },
    );
  });
}

function plain(raw: string): string[] {
  return raw
    .replace(ANSI, '')
    .split('\n')
    .map((line) => line.trimEnd())
    .filter(Boolean);
}

describe('tty renderer on a pseudo-terminal', () => {
  // 0 0: what a pty says when nobody sized it (script without a terminal, `ssh -t` from a pipe).
  it.each(['cols 0 rows 0', 'cols 100 rows 40'])('draws live and leaves each host collapsed (%s)', async (size) => {
    const raw = await runOnPty(size);

    expect(raw).toContain(ERASE_LINE_UP);
    const lastFrame = raw.lastIndexOf(FRAME_START);
    expect(lastFrame).toBeGreaterThan(0);
    // Frames before the last one were drawn too: the tree was live, not printed once.
    expect(plain(raw.slice(0, lastFrame))).toContain('✖ web-2  FAILED at deploy: switch-to-configuration exited with 1  3.1s');

    const screen = plain(raw.slice(lastFrame));
    expect(screen).toEqual([
      expect.stringMatching(/^✔ build {2}3 hosts {2}\d+\.\ds$/),
      `✔ ${collapsedHostLine(PACMAN)}`,
      '  › ! accepted new host key SHA256:abc (trust on first use)',
      `✔ ${collapsedHostLine(WEB1)}`,
      `✖ ${collapsedHostLine(WEB2)}`,
      expect.stringMatching(/^ {2}✔ probe: NixOS 24\.11 {2}\d+\.\ds$/),
      '  ✖ deploy switch: switch-to-configuration exited with 1',
      // Held while drawing, printed under the tree; then the hold is gone.
      STRAY_LINE,
      AFTER_LINE,
    ]);
    expect(plain(raw).filter((line) => line === STRAY_LINE)).toHaveLength(1);
  });

  // A fresh terminal: the frame starts at the home position, where "clear to the end of the screen"
  // clears all of it, which tmux (scroll-on-clear) pushes into the scrollback, a frame per redraw.
  it.each([
    ['cols 0 rows 0', 80, 24],
    ['cols 100 rows 12', 100, 12],
  ])('the compact view redraws in place and leaves nothing in the scrollback (%s)', async (size, columns, rows) => {
    const raw = await runOnPty(size, 'compact', true);
    expect(raw).not.toMatch(/\u001b\[[0-2]?J/);
    const redraws = raw.match(/\r\u001b\[\d+A/g) ?? [];
    expect(redraws.length).toBeGreaterThan(3);

    const screen = new Screen(columns, rows);
    screen.feed(raw);
    expect(screen.history).toEqual([]);
    expect(screen.wraps).toBe(0);
    const shown = screen.lines().filter(Boolean);
    // The stray write where the frame was, then the final lines, then what came after the view.
    expect(shown[0]).toBe(STRAY_LINE);
    expect(shown[1]).toMatch(/^fleet {2}3\/3 done · 1 failed · 0 running {2}\S+$/);
    expect(shown).toContain('✖ web-2       FAILED at deploy: switch-to-configuration exited with 1');
    expect(shown.at(-1)).toBe(AFTER_LINE);
    expect(shown.filter((line) => line === STRAY_LINE)).toHaveLength(1);
  });
});
