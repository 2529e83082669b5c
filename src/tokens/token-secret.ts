import { createHash, timingSafeEqual } from 'node:crypto';
import { verifySecret } from '../auth/secret-hash.js';

// A token secret is 256 random bits: no guess list can reach it, so a slow hash would protect nothing and would only
// let anyone with a made-up token make the server burn CPU. Stored form: sha256$<hex>. Tokens made before this
// (scrypt$..., see auth/secret-hash.ts) are still accepted and are rehashed on their first use.

const PREFIX = 'sha256$';

export function hashTokenSecret(secret: string): string {
  return PREFIX + createHash('sha256').update(secret).digest('hex');
}

export type TokenSecretCheck = 'valid' | 'valid-rehash' | 'invalid';

/** Checks a presented secret against its stored hash; `valid-rehash` means the stored hash is the old slow kind. */
export async function checkTokenSecret(secret: string, stored: string): Promise<TokenSecretCheck> {
  if (stored.startsWith(PREFIX)) {
    const expected = Buffer.from(stored.slice(PREFIX.length), 'hex');
    const actual = createHash('sha256').update(secret).digest();
    return expected.length === actual.length && timingSafeEqual(expected, actual) ? 'valid' : 'invalid';
  }
  return (await verifySecret(secret, stored)) ? 'valid-rehash' : 'invalid';
}
