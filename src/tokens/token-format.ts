import { randomSecret } from '../auth/secret-hash.js';

// tth_<id>_<secret>: the id finds the row, the secret is checked against its hash.
const PREFIX = 'tth_';
const PATTERN = /^tth_(\d{1,12})_([A-Za-z0-9_-]{43})$/;

export function newTokenSecret(): string {
  return randomSecret();
}

export function formatToken(id: number, secret: string): string {
  return `${PREFIX}${id}_${secret}`;
}

export function parseToken(token: string): { id: number; secret: string } | null {
  const match = PATTERN.exec(token);
  return match ? { id: Number(match[1]), secret: match[2] } : null;
}

export function looksLikeApiToken(token: string): boolean {
  return token.startsWith(PREFIX);
}
