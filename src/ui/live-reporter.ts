// The compact live view on a terminal: redraws the frame of live-view.ts in place, line by line,
// follows resizes, holds stray writes so they never tear the frame, and leaves the final lines on a
// clean screen.
import stringWidth from 'string-width';
import type { Plan } from '../plan/types.js';
import type { Reporter, RunEvent } from '../run/events.js';
import { applyLiveEvent, initialLiveState, type LiveState } from './live-state.js';
import { finalLines, liveFrame } from './live-view.js';
import { painter, type Paint } from './paint.js';
import { formatDiffBlock } from '../report/index.js';

/**
 * The size assumed for a terminal that reports none: a pseudo-terminal nobody sized (under
 * `script`, `ssh -t` fed from a pipe) says 0×0.
 */
const FALLBACK_COLUMNS = 80;
const FALLBACK_ROWS = 24;
/** How often the frame is redrawn (spinner, elapsed times, output lines); unchanged frames are not written. */
const TICK_MS = 100;

const HIDE_CURSOR = '\u001b[?25l';
const SHOW_CURSOR = '\u001b[?25h';
// Only lines are erased, each in place, never "the screen from here down": a frame drawn from the
// top of the screen would make that a clear of the whole screen, which tmux (scroll-on-clear) and
// other terminals push into the scrollback, a stale frame per redraw.
/** Erase the whole line the cursor is on. */
const ERASE_LINE = '\u001b[2K';
/** Erase from the cursor to the end of its line. */
const ERASE_LINE_END = '\u001b[K';
const up = (rows: number): string => `\u001b[${rows}A`;

/** Options of the live view. */
export interface LiveReporterOptions {
  stream: NodeJS.WritableStream;
  plan: Pick<Plan, 'hosts' | 'build'>;
  color?: boolean;
  /** The clock (tests). */
  now?: () => number;
}

type Write = NodeJS.WriteStream['write'];

/**
 * Renders a run as one line per running host under a header of counts (see {@link liveFrame}),
 * redrawn in place on the terminal it writes to. It draws from the first event to `close()`.
 */
export class LiveReporter implements Reporter {
  private readonly state: LiveState;
  private readonly stream: NodeJS.WriteStream;
  private readonly paint?: Paint;
  private readonly now: () => number;
  /** Writes to the terminal past the hold. */
  private out: (text: string) => void;
  /** Widths in columns of the lines of the frame on screen (none when nothing is drawn). */
  private drawn: number[] = [];
  private drawnColumns = 0;
  private lastFrame = '';
  /** A stray write left the cursor mid-line: the next frame starts on a new line. */
  private strayOpen = false;
  private started = false;
  private closed = false;
  private ticker?: ReturnType<typeof setInterval>;
  private readonly undo: (() => void)[] = [];

  constructor(options: LiveReporterOptions) {
    this.now = options.now ?? Date.now;
    this.state = initialLiveState(options.plan, this.now());
    this.stream = options.stream as NodeJS.WriteStream;
    this.paint = options.color ? painter(true) : undefined;
    const write = this.stream.write.bind(this.stream);
    this.out = (text) => void write(text);
  }

  emit(event: RunEvent): void {
    if (this.closed) return;
    const first = !this.started;
    this.start();
    applyLiveEvent(this.state, event, this.now());
    // apply --diff: the host's diff stays on screen, above the frame, before the host goes on.
    if (event.type === 'host-diff') this.above(formatDiffBlock(event.host, event.diff));
    else if (first) this.draw();
  }

  /** Writes lines where the frame is, for good (they scroll up with the terminal), and draws the frame below. */
  private above(lines: readonly string[]): void {
    const erase = this.erase();
    const lead = this.strayOpen ? '\n' : '';
    this.strayOpen = false;
    this.drawn = [];
    this.lastFrame = '';
    this.out(`${erase}${lead}${lines.join('\n')}\n`);
    this.draw();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.started) return;
    if (this.ticker) clearInterval(this.ticker);
    const erase = this.erase();
    for (const undo of this.undo.splice(0).reverse()) undo();
    this.out(`${erase}${finalLines(this.state, this.now()).join('\n')}\n${SHOW_CURSOR}`);
    this.drawn = [];
  }

  /** Starts drawing on the first event, so a run that never starts draws nothing. */
  private start(): void {
    if (this.started) return;
    this.started = true;
    this.out(HIDE_CURSOR);
    this.hold(this.stream);
    if (process.stderr !== this.stream && process.stderr.isTTY) this.hold(process.stderr);
    const onResize = () => this.draw();
    this.stream.on?.('resize', onResize);
    this.undo.push(() => this.stream.off?.('resize', onResize));
    // A process that leaves without close() (a second Ctrl-C) must not leave the cursor hidden.
    const onExit = () => this.out(SHOW_CURSOR);
    process.once('exit', onExit);
    this.undo.push(() => process.off('exit', onExit));
    this.ticker = setInterval(() => this.draw(), TICK_MS);
    this.ticker.unref?.();
  }

  /**
   * Takes a stream's `write` while the view draws: a stray write (a warning, another module's
   * line) erases the frame, is written where the frame was, and the frame is drawn again below.
   */
  private hold(target: NodeJS.WriteStream): void {
    const original = target.write;
    const direct = original.bind(target) as (text: string) => boolean;
    if (target === this.stream) this.out = (text) => void direct(text);
    const held = ((chunk: unknown, ...rest: unknown[]) => {
      const erase = this.erase();
      if (erase) this.out(erase);
      this.drawn = [];
      this.lastFrame = '';
      const result = (original as (...args: unknown[]) => boolean).call(target, chunk, ...rest);
      const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString() : String(chunk);
      if (text.length > 0) this.strayOpen = !text.endsWith('\n');
      this.draw();
      return result;
    }) as Write;
    target.write = held;
    this.undo.push(() => {
      if (target.write === held) target.write = original;
    });
  }

  private size(): { columns: number; rows: number } {
    return { columns: this.stream.columns || FALLBACK_COLUMNS, rows: this.stream.rows || FALLBACK_ROWS };
  }

  /**
   * Rows the frame on screen takes. After a resize to fewer columns, a terminal that reflows has
   * wrapped each old line onto several rows: they are counted at the new width.
   */
  private drawnRows(): number {
    const columns = this.size().columns;
    return columns < this.drawnColumns ? this.drawn.reduce((sum, width) => sum + Math.max(1, Math.ceil(width / columns)), 0) : this.drawn.length;
  }

  /** Erases the frame on screen, line by line from its last, and leaves the cursor at its first. */
  private erase(): string {
    const rows = this.drawnRows();
    return rows === 0 ? '' : `\r${`${up(1)}${ERASE_LINE}`.repeat(rows)}`;
  }

  /**
   * Draws the frame over the one on screen: back to its first line, each new line written over the
   * old one and the rest of it erased; old lines below the new frame are erased, and the cursor
   * comes back to the line under the new frame. No row is added below what the old frame took, so
   * nothing scrolls.
   */
  private draw(): void {
    if (this.closed) return;
    const size = this.size();
    const lines = liveFrame(this.state, size, this.now(), this.paint);
    const frame = lines.join('\n');
    if (frame === this.lastFrame && size.columns === this.drawnColumns) return;
    const rows = this.drawnRows();
    const lead = this.strayOpen ? '\n' : '';
    this.strayOpen = false;
    let text = rows > 0 ? `\r${up(rows)}` : lead;
    for (const line of lines) text += `${line}${ERASE_LINE_END}\n`;
    const left = rows - lines.length;
    if (left > 0) text += `${`${ERASE_LINE}\n`.repeat(left)}${up(left)}`;
    this.out(text);
    this.lastFrame = frame;
    this.drawn = lines.map((line) => stringWidth(line));
    this.drawnColumns = size.columns;
  }
}
