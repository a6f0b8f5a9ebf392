// How far a `nix copy` got, read from its own lines: it names how many paths the target lacks
// (`copying 12 paths...`), then prints a line per path it copies (`copying path '/nix/store/…' to …`).

const TOTAL = /^copying (\d+) paths?\.\.\.\s*$/;
const ONE_PATH = /^copying path '(\/nix\/store\/[^']+)' (to|from) '/;

/** Store paths a closure copy sent from this machine, and the sum of their NAR sizes. */
export interface Upload {
  paths: number;
  bytes: number;
}

/** The NAR sizes `nix path-info --json` reports (Nix 2.8: a list of `{ path, narSize, … }`), summed. */
export function narBytes(pathInfoJson: string): number | undefined {
  try {
    const list = JSON.parse(pathInfoJson) as unknown;
    if (!Array.isArray(list)) return undefined;
    return list.reduce((sum: number, info: { narSize?: unknown }) => sum + (typeof info?.narSize === 'number' ? info.narSize : 0), 0);
  } catch {
    return undefined;
  }
}

/**
 * Counts one copy attempt's paths. Nix 2.8's line output tells no byte counts, so none are
 * guessed here; `total` is 0 until nix has said how many paths it copies.
 */
export class CopyProgress {
  copied = 0;
  total = 0;
  /**
   * The paths nix said it sends (`copying path '…' to '…'`): what crosses the link. A target that
   * substitutes relays its own lines (`copying path '…' from 'https://cache…'`): not sent from here.
   */
  readonly paths: string[] = [];

  /** Takes one line of the copy's output; true when the count changed. */
  read(line: string): boolean {
    const trimmed = line.trim();
    const total = TOTAL.exec(trimmed);
    if (total) {
      this.total = Number(total[1]);
      return true;
    }
    const one = ONE_PATH.exec(trimmed);
    // `… from '<cache>'` in a copy to a target: the target substituting, relayed; nix neither
    // counts it among the paths it copies nor sends it.
    if (one?.[2] === 'to') {
      this.copied += 1;
      this.paths.push(one[1]!);
      // A nix that never said its count: the total is at least what was copied.
      if (this.total < this.copied) this.total = this.copied;
      return true;
    }
    return false;
  }
}
