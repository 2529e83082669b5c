import { describe, expect, it } from 'vitest';
import { parseToken, formatToken, newTokenSecret } from '../tokens/token-format.js';
import { hashSecret, verifySecret } from './secret-hash.js';

describe('secret hashing', () => {
  it('stores a salted scrypt hash that verifies only the right secret', async () => {
    const first = await hashSecret('correct horse');
    const second = await hashSecret('correct horse');
    expect(first).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(first).not.toContain('correct horse');
    expect(first).not.toBe(second); // salted
    expect(await verifySecret('correct horse', first)).toBe(true);
    expect(await verifySecret('correct horsf', first)).toBe(false);
    expect(await verifySecret('', first)).toBe(false);
  });

  it('rejects malformed stored hashes instead of throwing', async () => {
    expect(await verifySecret('x', '')).toBe(false);
    expect(await verifySecret('x', 'scrypt$1$2$3$$')).toBe(false);
    expect(await verifySecret('x', 'plain$text')).toBe(false);
  });
});

describe('API token format', () => {
  it('round-trips id and secret, and rejects anything else', () => {
    const secret = newTokenSecret();
    const token = formatToken(42, secret);
    expect(token.startsWith('tth_42_')).toBe(true);
    expect(parseToken(token)).toEqual({ id: 42, secret });
    expect(parseToken('tth_42_short')).toBeNull();
    expect(parseToken(`tts_42_${secret}`)).toBeNull();
    expect(parseToken(`tth_x_${secret}`)).toBeNull();
  });
});
