// CMPP login authenticators (docs/cmpp.md, "CONNECT"): MD5 over the account, nine zero bytes, the
// shared secret and the MMDDHHMMSS timestamp; the gateway answers MD5(Status + AuthenticatorSource + secret).
import { createHash } from 'node:crypto';
import type { CmppVersion } from './commands.js';

export const ACCOUNT_LENGTH = 6;
export const AUTHENTICATOR_LENGTH = 16;

/** The CONNECT timestamp MMDDHHMMSS as an integer, for the given time in local time (as gateways expect). */
export function cmppTimestamp(date: Date = new Date()): number {
  return (
    (date.getMonth() + 1) * 100_000_000 +
    date.getDate() * 1_000_000 +
    date.getHours() * 10_000 +
    date.getMinutes() * 100 +
    date.getSeconds()
  );
}

/** The timestamp as it enters the MD5: always ten digits, zero-padded. */
export function timestampText(timestamp: number): string {
  return String(timestamp >>> 0).padStart(10, '0');
}

/** The 6-byte Source_Addr: ASCII/UTF-8 bytes of the account, zero-padded (never longer than 6 bytes). */
export function accountBytes(account: string): Buffer {
  const raw = Buffer.from(account, 'utf8');
  if (raw.length > ACCOUNT_LENGTH) throw new RangeError(`CMPP account is ${raw.length} bytes, at most 6`);
  const out = Buffer.alloc(ACCOUNT_LENGTH);
  raw.copy(out);
  return out;
}

/** AuthenticatorSource = MD5(Source_Addr + 9 zero bytes + secret + timestamp text). */
export function authenticatorSource(account: string, secret: string, timestamp: number): Buffer {
  return createHash('md5')
    .update(Buffer.from(account, 'utf8'))
    .update(Buffer.alloc(9))
    .update(Buffer.from(secret, 'utf8'))
    .update(timestampText(timestamp), 'latin1')
    .digest();
}

/** AuthenticatorISMG = MD5(Status (1 byte in 2.0, 4 in 3.0) + AuthenticatorSource + secret). */
export function authenticatorIsmg(
  status: number,
  source: Uint8Array,
  secret: string,
  version: CmppVersion,
): Buffer {
  const statusBytes = Buffer.alloc(version === '2.0' ? 1 : 4);
  if (version === '2.0') statusBytes.writeUInt8(status & 0xff, 0);
  else statusBytes.writeUInt32BE(status >>> 0, 0);
  return createHash('md5').update(statusBytes).update(source).update(Buffer.from(secret, 'utf8')).digest();
}
