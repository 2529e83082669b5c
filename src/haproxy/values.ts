// The value syntaxes of haproxy.cfg the import reads: times, addresses, names.
import { isIP } from 'node:net';
import { durationExactMs } from '../schema/durations.js';
import { MAX_TIMER_MS, NAME_PATTERN } from '../schema/fields.js';

export interface TimeValue {
  ms: number;
  /** Set when the value had to change to fit (rounded up from microseconds, capped). */
  note?: string;
}

/**
 * `5000`, `5000ms`, `5s`, `2m`, `1h`, `1d`, `500us`; undefined when malformed. Unitless means ms. The
 * syntax is the API's own (schema/durations.ts), so what imports also goes through the REST API.
 */
export function parseTime(text: string): TimeValue | undefined {
  if (text !== text.trim()) return undefined;
  const exact = durationExactMs(text);
  if (exact === undefined) return undefined;
  let ms = Math.ceil(exact);
  let note: string | undefined;
  if (ms !== exact) note = `rounded up to ${ms} ms`;
  if (ms > MAX_TIMER_MS) {
    ms = MAX_TIMER_MS;
    note = `capped at ${MAX_TIMER_MS} ms (the longest timer Tether can run)`;
  }
  return { ms, note };
}

/** A decimal integer written as HAProxy writes them; undefined when malformed. */
export function parseInteger(text: string | undefined): number | undefined {
  return text !== undefined && /^\d{1,15}$/.test(text) ? Number(text) : undefined;
}

export interface HostPort {
  host: string;
  /** undefined when the address has none. */
  port?: string;
}

const FAMILY_PREFIX = /^(ipv4|ipv6|tcp|tcp4|tcp6)@/;

/**
 * One address of a `bind` or `server` line: `*:p`, `:p`, `0.0.0.0:p`, `[::]:p`, `:::p`, `ipv6@::1:p`,
 * `ipv4@10.0.0.1:p`, `host:p`. Returns a reason when it is a kind Tether cannot use (unix sockets, UDP).
 */
export function splitHostPort(text: string): HostPort | { unsupported: string } {
  if (text.startsWith('/') || /^(unix|abns|fd|sockpair|udp|udp4|udp6|quic4|quic6|uxst|uxdg)@/.test(text)) {
    return { unsupported: 'only TCP addresses can be imported (no UNIX sockets, file descriptors or UDP)' };
  }
  const family = FAMILY_PREFIX.exec(text)?.[1];
  const rest = family ? text.slice(family.length + 1) : text;
  if (rest.startsWith('[')) {
    const end = rest.indexOf(']');
    if (end < 0) return { host: rest };
    const after = rest.slice(end + 1);
    return { host: rest.slice(1, end), port: after.startsWith(':') ? after.slice(1) : undefined };
  }
  const colon = rest.lastIndexOf(':');
  if (colon < 0) return { host: rest };
  let host = rest.slice(0, colon);
  if (host === '' || host === '*') host = family === 'ipv6' || family === 'tcp6' ? '::' : '0.0.0.0';
  // `ipv6@::1` with no port: the colon belongs to the address.
  if (isIP(rest) === 6 && isIP(host) !== 6 && host !== '::') return { host: rest };
  return { host, port: rest.slice(colon + 1) };
}

/** A port or a port range (`8000-8010`): the ports, or undefined when malformed. */
export function parsePorts(text: string | undefined): { first: number; count: number } | undefined {
  const match = text === undefined ? null : /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text);
  if (!match) return undefined;
  const first = Number(match[1]);
  const last = match[2] === undefined ? first : Number(match[2]);
  if (first < 1 || last > 65535 || last < first) return undefined;
  return { first, count: last - first + 1 };
}

/**
 * Names that Tether's schema refuses (fields.ts NAME_PATTERN), mapped the same way every time: each
 * other character becomes `_`, 64 characters at most, `.`/`..` become `_`/`__`. The caller makes the
 * result unique.
 */
export function tetherName(name: string): string {
  if (NAME_PATTERN.test(name)) return name;
  let mapped = name.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 64);
  if (mapped === '') mapped = '_';
  if (mapped === '.' || mapped === '..') mapped = mapped.replace(/\./g, '_');
  return mapped;
}
