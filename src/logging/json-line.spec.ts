import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { SessionEndRecord } from '../runtime/types.js';
import { SessionJsonLines } from './json-line.js';

const record = {
  id: '17',
  clientAddress: '::ffff:127.0.0.5',
  clientPort: 40000,
  acceptedAt: 1_796_000_000_123,
  frontend: 'fe "quoted" \\ name',
  backend: 'be',
  server: null,
  tw: -1,
  tc: -1,
  tt: 5,
  bytesRead: 0,
  bytesUploaded: 12,
  termination: 'SC',
  actconn: 1,
  feconn: 1,
  beconn: 0,
  srvConn: 0,
  retries: 1,
  redispatched: true,
  srvQueue: 0,
  backendQueue: 0,
  reason: 'connect failed: ECONNREFUSED\n',
} as unknown as SessionEndRecord;

/** What pino itself wrote for the record, as the session log did before json-line.ts. */
function pinoLine(r: SessionEndRecord): string {
  let out = '';
  const logger = pino(
    { base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime },
    { write: (s: string) => (out += s) },
  );
  logger.info(r, 'session');
  return out;
}

describe('SessionJsonLines', () => {
  it("writes pino's line: the same keys in the same order and values, time in ISO with milliseconds", () => {
    const mine = new SessionJsonLines().line(record, Date.UTC(2026, 11, 5, 13, 40, 1, 7));
    expect(mine.endsWith('}\n')).toBe(true);
    const parsed = JSON.parse(mine) as Record<string, unknown>;
    const theirs = JSON.parse(pinoLine(record)) as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual(Object.keys(theirs));
    expect({ ...parsed, time: 0 }).toEqual({ ...theirs, time: 0 });
    expect(parsed.time).toBe('2026-12-05T13:40:01.007Z');
  });

  it('gives every instant its own time, across seconds and back', () => {
    const lines = new SessionJsonLines();
    for (const ms of [999, 1000, 1001, 61_999, 1000, 1_796_000_000_000])
      expect((JSON.parse(lines.line(record, ms)) as { time: string }).time).toBe(new Date(ms).toISOString());
  });
});
