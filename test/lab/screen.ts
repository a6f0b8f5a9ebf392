// A small, strict terminal for the pty tests: replays what fleet wrote to a pseudo-terminal onto a
// grid of rows × columns, the way an xterm does, with a scrollback as tmux keeps one, and counts
// what a user would see go wrong: lines pushed into the scrollback and lines that wrapped. Escape
// sequences it does not know are an error, not silently ignored.

/** A grid the output is drawn on. */
export class Screen {
  private grid: string[][];
  private row = 0;
  private col = 0;
  /** The cursor is past the last column: the next printable character wraps (xterm's deferred wrap). */
  private pendingWrap = false;
  /** Lines pushed into the scrollback: scrolled off the top, or by a clear of the whole screen. */
  scrolls = 0;
  /** The scrollback, oldest first. */
  readonly history: string[] = [];
  /** Printable characters that did not fit their line and wrapped onto the next one. */
  wraps = 0;

  constructor(
    readonly columns: number,
    readonly rows: number,
  ) {
    this.grid = Array.from({ length: rows }, () => this.blank());
  }

  private blank(): string[] {
    return Array.from({ length: this.columns }, () => ' ');
  }

  /** The rows as text, trailing blanks cut. */
  lines(): string[] {
    return this.grid.map((r) => r.join('').trimEnd());
  }

  private lineFeed(): void {
    if (this.row === this.rows - 1) {
      this.history.push(this.grid[0]!.join('').trimEnd());
      this.grid.shift();
      this.grid.push(this.blank());
      this.scrolls += 1;
    } else this.row += 1;
  }

  private clearRow(row: number, from: number, to: number): void {
    for (let c = from; c < to; c++) this.grid[row]![c] = ' ';
  }

  /**
   * Feeds output; `after(index)` is called after each line feed with the index of the next
   * character, so a test can look at the screen as it was between two writes.
   */
  feed(data: string, after?: (index: number) => void): void {
    for (let i = 0; i < data.length; i++) {
      const ch = data[i]!;
      if (ch === '\u001b') {
        const csi = /^\u001b\[([0-9;?]*)([A-Za-z])/.exec(data.slice(i, i + 32));
        if (!csi) throw new Error(`screen: unsupported escape ${JSON.stringify(data.slice(i, i + 8))}`);
        this.escape(csi[1]!, csi[2]!);
        i += csi[0].length - 1;
        continue;
      }
      if (ch === '\r') {
        this.col = 0;
        this.pendingWrap = false;
      } else if (ch === '\n') {
        this.pendingWrap = false;
        this.lineFeed();
        after?.(i + 1);
      } else if (ch === '\b') {
        this.col = Math.max(0, this.col - 1);
        this.pendingWrap = false;
      } else if (ch === '\t') {
        this.col = Math.min(this.columns - 1, (Math.floor(this.col / 8) + 1) * 8);
      } else if (ch === '\u0007') {
        // bell
      } else if (ch < ' ') {
        throw new Error(`screen: unsupported control character ${JSON.stringify(ch)}`);
      } else {
        if (this.pendingWrap) {
          this.wraps += 1;
          this.col = 0;
          this.pendingWrap = false;
          this.lineFeed();
        }
        this.grid[this.row]![this.col] = ch;
        if (this.col === this.columns - 1) this.pendingWrap = true;
        else this.col += 1;
      }
    }
  }

  /** tmux's scroll-on-clear: the lines down to the last non-blank one go into the scrollback. */
  private clearIntoHistory(): void {
    const lines = this.lines();
    let last = lines.length;
    while (last > 0 && lines[last - 1] === '') last -= 1;
    this.history.push(...lines.slice(0, last));
    this.scrolls += last;
  }

  private escape(params: string, final: string): void {
    if (params.startsWith('?')) {
      // Private modes (cursor shown or hidden, bracketed paste): nothing to draw.
      if (final === 'h' || final === 'l') return;
      throw new Error(`screen: unsupported private escape ${params}${final}`);
    }
    const n = (fallback: number) => (params === '' ? fallback : Number(params.split(';')[0]));
    this.pendingWrap = false;
    switch (final) {
      case 'A':
        this.row = Math.max(0, this.row - n(1));
        return;
      case 'B':
        this.row = Math.min(this.rows - 1, this.row + n(1));
        return;
      case 'C':
        this.col = Math.min(this.columns - 1, this.col + n(1));
        return;
      case 'D':
        this.col = Math.max(0, this.col - n(1));
        return;
      case 'G':
        this.col = Math.min(this.columns - 1, n(1) - 1);
        return;
      case 'H': {
        const [r, c] = params.split(';').map((p) => Number(p || '1'));
        this.row = Math.min(this.rows - 1, (r ?? 1) - 1);
        this.col = Math.min(this.columns - 1, (c ?? 1) - 1);
        return;
      }
      case 'J': {
        const mode = n(0);
        // Clearing the whole screen (ESC[2J, or ESC[J from the home position) pushes what it shows
        // into the scrollback in tmux (scroll-on-clear, on by default) and other terminals.
        if (mode === 2 || (mode === 0 && this.row === 0 && this.col === 0)) this.clearIntoHistory();
        if (mode === 0) {
          this.clearRow(this.row, this.col, this.columns);
          for (let r = this.row + 1; r < this.rows; r++) this.clearRow(r, 0, this.columns);
        } else if (mode === 2) for (let r = 0; r < this.rows; r++) this.clearRow(r, 0, this.columns);
        else throw new Error(`screen: unsupported erase ${params}J`);
        return;
      }
      case 'K': {
        const mode = n(0);
        if (mode === 0) this.clearRow(this.row, this.col, this.columns);
        else if (mode === 2) this.clearRow(this.row, 0, this.columns);
        else if (mode === 1) this.clearRow(this.row, 0, this.col + 1);
        return;
      }
      case 'm':
        return;
      default:
        throw new Error(`screen: unsupported escape ${params}${final}`);
    }
  }
}

/** Where a redraw of the live view starts: back to column 1, up over the old frame. */
const REDRAW = /(?=\r\u001b\[\d+A)/;

/** Feeds output frame by frame, calling `onFrame` with the screen as each complete frame left it. */
export function replayFrames(screen: Screen, raw: string, onFrame: (lines: string[]) => void): void {
  for (const piece of raw.split(REDRAW)) {
    screen.feed(piece);
    onFrame(screen.lines());
  }
}
