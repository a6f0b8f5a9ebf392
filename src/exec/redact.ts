// Masking secret values in what processes print, with the values kept as bytes: no string of a
// secret is made here (a JS string cannot be overwritten; a Buffer can, and its owner does).
import { base64Bytes } from '../bytes.js';

/** Parts shorter than this are not masked on their own: they would mask letters everywhere. */
export const MIN_MASKED_BYTES = 4;

const isSpace = (byte: number): boolean => byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d;

/** `bytes` without leading and trailing white space (a view, not a copy). */
function trimmed(bytes: Buffer): Buffer {
  let start = 0;
  let end = bytes.length;
  while (start < end && isSpace(bytes[start]!)) start++;
  while (end > start && isSpace(bytes[end - 1]!)) end--;
  return bytes.subarray(start, end);
}

/** What to mask, and `dispose()` to overwrite the copies made for it (the values stay their owner's). */
export interface Redactions {
  /** Longest first. */
  patterns: Buffer[];
  dispose(): void;
}

/**
 * What to mask for these secret values: each value as it is and trimmed, its base64 (how uploads
 * carry it), and each line of a multi-line value (a tool that echoes a key prints it line by line,
 * and output is handled line by line), longest first; parts under MIN_MASKED_BYTES are left out.
 */
export function redactionPatterns(values: readonly Buffer[]): Redactions {
  const patterns: Buffer[] = [];
  const copies: Buffer[] = [];
  for (const value of values) {
    const base64 = base64Bytes(value);
    copies.push(base64);
    patterns.push(value, trimmed(value), base64);
    let start = 0;
    for (let i = 0; i <= value.length; i++) {
      if (i === value.length || value[i] === 0x0a || value[i] === 0x0d) {
        if (i > start) patterns.push(trimmed(value.subarray(start, i)));
        start = i + 1;
      }
    }
  }
  return {
    patterns: patterns.filter((p) => p.length >= MIN_MASKED_BYTES).sort((a, b) => b.length - a.length),
    dispose: () => {
      for (const copy of copies) copy.fill(0);
    },
  };
}

const MASK = Buffer.from('***');

/** `bytes` with every occurrence of each pattern replaced by `***` (patterns longest first). */
export function redactBytes(bytes: Buffer, patterns: readonly Buffer[]): Buffer {
  let out = bytes;
  for (const pattern of patterns) {
    let at = out.indexOf(pattern);
    if (at < 0) continue;
    const parts: Buffer[] = [];
    let from = 0;
    while (at >= 0) {
      parts.push(out.subarray(from, at), MASK);
      from = at + pattern.length;
      at = out.indexOf(pattern, from);
    }
    parts.push(out.subarray(from));
    out = Buffer.concat(parts);
  }
  return out;
}

/** A line of output with the patterns masked (unchanged, and not copied, when none occurs). */
export function redactText(text: string, patterns: readonly Buffer[]): string {
  if (patterns.length === 0) return text;
  const bytes = Buffer.from(text);
  const out = redactBytes(bytes, patterns);
  return out === bytes ? text : out.toString();
}
