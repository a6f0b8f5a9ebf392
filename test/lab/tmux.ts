// Runs fleet in a fresh tmux pane (its own tmux server, on a socket of its own) and samples the pane
// while it runs: what it shows and how many lines its scrollback holds (`#{history_size}`).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FLEET_BIN } from './fleet-harness.js';
import type { Lab } from './lab.js';

/** The pane as one sample saw it. */
export interface PaneSample {
  /** Lines in the pane's scrollback. */
  history: number;
  /** The visible rows. */
  screen: string[];
}

export interface TmuxRun {
  /** fleet's exit code. */
  code: number;
  samples: PaneSample[];
}

/**
 * Starts `fleet <args>` as the only program of a new tmux session of `columns` × `rows` (cursor at
 * the home position, empty scrollback) and samples the pane every `everyMs` until fleet exits.
 */
export async function runFleetInTmux(lab: Lab, args: string[], size: { columns: number; rows: number }, timeoutMs = 180_000, everyMs = 100): Promise<TmuxRun> {
  const dir = mkdtempSync(join(tmpdir(), 'fleet-tmux-'));
  const socket = join(dir, 'tmux.sock');
  const exitFile = join(dir, 'exit');
  const env: Record<string, string> = { ...process.env, ...lab.env } as Record<string, string>;
  delete env.CI;
  delete env.NO_COLOR;
  delete env.TMUX;
  const tmux = (...words: string[]) => spawnSync('tmux', ['-S', socket, '-f', '/dev/null', ...words], { env, encoding: 'utf8' });
  // tmux runs the pane's command with sh -c: the argv is quoted for it here, in the test harness only.
  const quote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;
  const command = `${[process.execPath, FLEET_BIN, ...args].map(quote).join(' ')}; echo $? > ${quote(exitFile)}`;
  try {
    // The pane stays after fleet exits, so that its last screen can be read.
    const started = tmux('start-server', ';', 'set-option', '-g', 'remain-on-exit', 'on', ';', 'new-session', '-d', '-x', String(size.columns), '-y', String(size.rows), '-s', 'fleet', command);
    if (started.status !== 0) throw new Error(`tmux new-session failed: ${started.stderr}`);
    const samples: PaneSample[] = [];
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const history = tmux('display-message', '-p', '-t', 'fleet', '#{history_size}');
      const screen = tmux('capture-pane', '-p', '-t', 'fleet');
      if (history.status === 0 && screen.status === 0) samples.push({ history: Number(history.stdout.trim()), screen: screen.stdout.split('\n').map((l) => l.trimEnd()) });
      let code: string | undefined;
      try {
        code = readFileSync(exitFile, 'utf8').trim();
      } catch {
        // still running
      }
      if (code !== undefined && code !== '') return { code: Number(code), samples };
      if (Date.now() > deadline) throw new Error(`fleet ${args.join(' ')} did not finish in ${timeoutMs} ms; last screen:\n${samples.at(-1)?.screen.join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  } finally {
    tmux('kill-server');
    rmSync(dir, { recursive: true, force: true });
  }
}
