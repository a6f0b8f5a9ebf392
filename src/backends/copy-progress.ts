// How far a `nix copy` got, read from its own lines: it names how many paths the target lacks
// (`copying 12 paths...`), then prints a line per path it copies (`copying path '/nix/store/…' to …`).

const TOTAL = /^copying (\d+) paths?\.\.\.\s*$/;
const ONE_PATH = /^copying path '\/nix\/store\/[^']+' (?:to|from) '/;

/**
 * Counts one copy attempt's paths. Nix 2.8's line output tells no byte counts, so none are
 * guessed here; `total` is 0 until nix has said how many paths it copies.
 */
export class CopyProgress {
  copied = 0;
  total = 0;

  /** Takes one line of the copy's output; true when the count changed. */
  read(line: string): boolean {
    const trimmed = line.trim();
    const total = TOTAL.exec(trimmed);
    if (total) {
      this.total = Number(total[1]);
      return true;
    }
    if (ONE_PATH.test(trimmed)) {
      this.copied += 1;
      // A nix that never said its count: the total is at least what was copied.
      if (this.total < this.copied) this.total = this.copied;
      return true;
    }
    return false;
  }
}
