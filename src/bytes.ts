// Secret bytes as bytes: encodings that never pass through a JS string (a string cannot be
// overwritten once a run is done with it; a Buffer can).

const BASE64_ALPHABET = Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/');
const PAD = 0x3d; // '='

/** Standard base64 (with padding) of `bytes`, into a Buffer: the same bytes as `toString('base64')`, with no string between. */
export function base64Bytes(bytes: Buffer): Buffer {
  const out = Buffer.alloc(Math.ceil(bytes.length / 3) * 4);
  let o = 0;
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i]!;
    const b = i + 1 < bytes.length ? bytes[i + 1]! : 0;
    const c = i + 2 < bytes.length ? bytes[i + 2]! : 0;
    out[o++] = BASE64_ALPHABET[a >> 2]!;
    out[o++] = BASE64_ALPHABET[((a & 3) << 4) | (b >> 4)]!;
    out[o++] = i + 1 < bytes.length ? BASE64_ALPHABET[((b & 15) << 2) | (c >> 6)]! : PAD;
    out[o++] = i + 2 < bytes.length ? BASE64_ALPHABET[c & 63]! : PAD;
  }
  return out;
}
