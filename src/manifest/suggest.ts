// "Did you mean …?": the closest known word to a misspelt one, or nothing.

/**
 * Optimal-string-alignment distance: insertions, deletions, substitutions and adjacent swaps.
 * Three rolling rows instead of a matrix: it runs once per candidate for every unknown key.
 */
export function editDistance(a: string, b: string): number {
  const cols = b.length + 1;
  let before = new Uint32Array(cols); // row i - 2
  let previous = new Uint32Array(cols); // row i - 1
  let current = new Uint32Array(cols); // row i
  for (let j = 0; j < cols; j++) previous[j] = j;
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, (previous[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, (before[j - 2] as number) + 1);
      }
      current[j] = best;
    }
    [before, previous, current] = [previous, current, before];
  }
  return previous[cols - 1] as number;
}

function isSubsequence(short: string, long: string): boolean {
  let i = 0;
  for (const ch of long) if (ch === short[i]) i++;
  return i === short.length;
}

/**
 * The candidate `word` was most likely meant to be, if any is close enough:
 * a small edit distance (case ignored), or an abbreviation of it (`tgt` → `target`).
 */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  let best: { candidate: string; score: number } | undefined;
  for (const candidate of candidates) {
    const c = candidate.toLowerCase();
    const distance = editDistance(w, c);
    const limit = Math.max(1, Math.floor(Math.max(w.length, c.length) / 3));
    let score = Number.POSITIVE_INFINITY;
    if (distance <= limit) score = distance;
    else if (w.length >= 3 && (isSubsequence(w, c) || isSubsequence(c, w))) score = limit + 1;
    if (score < (best?.score ?? Number.POSITIVE_INFINITY)) best = { candidate, score };
  }
  return best?.candidate;
}
