import { describe, expect, it } from 'vitest';
import { hash32, murmur3 } from './hash.js';

describe('hash32 (MurmurHash3 x86_32)', () => {
  it('matches the published MurmurHash3 test vectors', () => {
    expect(hash32('', 0)).toBe(0);
    expect(hash32('', 1)).toBe(0x514e28b7);
    expect(hash32('', 0xffffffff)).toBe(0x81f16f39);
    expect(murmur3(new Uint8Array(4), 4, 0)).toBe(0x2362f9de);
    expect(hash32('test', 0)).toBe(0xba6bd213);
    expect(hash32('aaaa', 0x9747b28c)).toBe(0x5a97808a);
    expect(hash32('Hello, world!', 0x9747b28c)).toBe(0x24884cba);
    expect(hash32('The quick brown fox jumps over the lazy dog', 0x9747b28c)).toBe(0x2fa826cd);
  });

  it('hashes the UTF-8 bytes, for short and long keys alike', () => {
    const short = 'π-account';
    expect(hash32(short)).toBe(murmur3(Buffer.from(short, 'utf8')));
    const long = 'ü'.repeat(400);
    expect(hash32(long)).toBe(murmur3(Buffer.from(long, 'utf8')));
  });

  it('is an unsigned 32-bit integer and spreads neighbouring addresses', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 256; i++) {
      const h = hash32(`10.0.0.${i}`);
      expect(Number.isInteger(h) && h >= 0 && h <= 0xffffffff).toBe(true);
      seen.add(h >>> 24);
    }
    // 256 consecutive IPs should cover far more than a handful of top-byte buckets.
    expect(seen.size).toBeGreaterThan(120);
  });
});
