// MurmurHash3 (x86, 32-bit; Austin Appleby, public domain) over the UTF-8 bytes of a string.
// Fixed seed 0 and no per-process randomness: every process and every node computes the same
// hash for the same key, so `source` balancing is deterministic across restarts and replicas.

const encoder = new TextEncoder();
// Reused for the short keys we hash (IP addresses, server points, SP accounts): no allocation per call.
const scratch = new Uint8Array(512);

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/** MurmurHash3_x86_32 of raw bytes. */
export function murmur3(bytes: Uint8Array, length = bytes.length, seed = 0): number {
  let h = seed >>> 0;
  const blocks = length & ~3;
  for (let i = 0; i < blocks; i += 4) {
    let k = bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = length & 3;
  if (tail > 0) {
    let k = bytes[blocks];
    if (tail > 1) k ^= bytes[blocks + 1] << 8;
    if (tail > 2) k ^= bytes[blocks + 2] << 16;
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
  }
  h ^= length;
  // fmix32: the avalanche step, so neighbouring IPs land far apart on the ring.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Deterministic unsigned 32-bit hash of a string's UTF-8 bytes. */
export function hash32(key: string, seed = 0): number {
  // A UTF-8 encoding takes at most 3 bytes per UTF-16 unit, so this bound guarantees the key fits.
  if (key.length * 3 <= scratch.length) {
    const { written } = encoder.encodeInto(key, scratch);
    return murmur3(scratch, written, seed);
  }
  const bytes = encoder.encode(key);
  return murmur3(bytes, bytes.length, seed);
}
