// The streaming frame reader against a plain reference parser: any chunking of any bytes gives the
// frames the reference finds in the whole stream, never throws and never holds bytes back.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  encodeConnect,
  encodeSubmit,
  readConnectAccount,
  readSubmitRecipients,
} from '../../src/cmpp/codec.js';
import { CommandId } from '../../src/cmpp/commands.js';
import { CmppFrameReader, type FrameSink, MAX_BODY_PREFIX } from '../../src/cmpp/frame-reader.js';

interface Seen {
  commandId: number;
  sequenceId: number;
  totalLength: number;
  prefix: string;
}
interface Log {
  frames: Seen[];
  notCmpp: number[];
}

/** Deliberately uneven wants: 0, small, and some above MAX_BODY_PREFIX (clamped). */
const wanted = (commandId: number): number => ((commandId >>> 0) * 37) % 200;
const clampWant = (commandId: number, totalLength: number) =>
  Math.min(wanted(commandId), totalLength - 12, MAX_BODY_PREFIX);

const sink: FrameSink<Log> = {
  bodyPrefix: wanted,
  onFrame(log, commandId, sequenceId, buf, bodyOffset, bodyBytes, totalLength) {
    const want = clampWant(commandId, totalLength);
    // The promise of the API: at least the prefix asked for, never beyond the body or the buffer.
    if (bodyBytes < want || bodyBytes > totalLength - 12 || bodyOffset + bodyBytes > buf.length)
      throw new Error(`bad body window ${bodyOffset}+${bodyBytes} for want ${want}`);
    log.frames.push({
      commandId,
      sequenceId,
      totalLength,
      prefix: buf.toString('hex', bodyOffset, bodyOffset + want),
    });
  },
  onNotCmpp(log, totalLength) {
    log.notCmpp.push(totalLength);
  },
};

/** What a reader must report for the whole stream: a buffering parser, as simple as it gets. */
function reference(bytes: Buffer): Log {
  const log: Log = { frames: [], notCmpp: [] };
  let pos = 0;
  while (bytes.length - pos >= 12) {
    const totalLength = bytes.readUInt32BE(pos);
    // The reader hands ids over as signed 32-bit integers (frame-reader.ts).
    const commandId = bytes.readInt32BE(pos + 4);
    const sequenceId = bytes.readInt32BE(pos + 8);
    if (totalLength < 12 || totalLength > 4096) {
      log.notCmpp.push(totalLength);
      break;
    }
    const want = clampWant(commandId, totalLength);
    if (bytes.length - pos - 12 < want) break;
    log.frames.push({
      commandId,
      sequenceId,
      totalLength,
      prefix: bytes.toString('hex', pos + 12, pos + 12 + want),
    });
    pos += totalLength;
  }
  return log;
}

/** Feeds `bytes` cut at `cuts`, each chunk in a larger buffer at an offset as a relay's reads would be. */
function feedChunked(bytes: Buffer, cuts: number[]): Log {
  const log: Log = { frames: [], notCmpp: [] };
  const reader = new CmppFrameReader(sink, log);
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  let start = 0;
  for (const end of [...points, bytes.length]) {
    if (end <= start) continue;
    const room = Buffer.alloc(end - start + 8, 0xee);
    bytes.copy(room, 3, start, end);
    reader.feed(room, 3, end - start);
    start = end;
  }
  return log;
}

/**
 * As feedChunked, through step(): one frame per call, the caller moving on from where it stopped (the relay's
 * inspection counts whole frames itself between steps). A step that stops inside the read leaves the reader
 * between frames.
 */
function feedStepped(bytes: Buffer, cuts: number[]): Log {
  const log: Log = { frames: [], notCmpp: [] };
  const reader = new CmppFrameReader(sink, log);
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  let start = 0;
  for (const end of [...points, bytes.length]) {
    if (end <= start) continue;
    const room = Buffer.alloc(end - start + 8, 0xee);
    bytes.copy(room, 3, start, end);
    const stop = 3 + end - start;
    for (let pos = 3; pos < stop;) {
      const frames = log.frames.length;
      pos = reader.step(room, pos, stop);
      if (pos < stop) {
        expect(reader.betweenFrames).toBe(true);
        // At most one frame per step (a frame whose prefix passed in an earlier read was reported then).
        expect(log.frames.length - frames).toBeLessThanOrEqual(1);
      }
    }
    start = end;
  }
  return log;
}

/** A valid frame: sane length, any command, random body. */
const frameArb = fc
  .record({
    commandId: fc.oneof(
      fc.constantFrom(...Object.values(CommandId)),
      fc.integer({ min: 0, max: 0xffffffff }),
    ),
    sequenceId: fc.integer({ min: 0, max: 0xffffffff }),
    body: fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ minLength: 100, maxLength: 4084 })),
  })
  .map(({ commandId, sequenceId, body }) => {
    const out = Buffer.alloc(12 + body.length);
    out.writeUInt32BE(out.length, 0);
    out.writeUInt32BE(commandId >>> 0, 4);
    out.writeUInt32BE(sequenceId >>> 0, 8);
    Buffer.from(body).copy(out, 12);
    return out;
  });
const cutsArb = fc.array(fc.nat(), { maxLength: 60 });

describe('CmppFrameReader', () => {
  it('re-chunking a valid stream at any boundaries gives the same frames', () => {
    fc.assert(
      fc.property(fc.array(frameArb, { maxLength: 12 }), cutsArb, (frames, cuts) => {
        const bytes = Buffer.concat(frames);
        const expected = reference(bytes);
        expect(expected.frames).toHaveLength(frames.length);
        expect(feedChunked(bytes, cuts)).toEqual(expected);
        expect(feedStepped(bytes, cuts)).toEqual(expected);
        // One byte per read: the worst case for the header and prefix state.
        expect(
          feedChunked(
            bytes,
            Array.from({ length: bytes.length }, (_, i) => i),
          ),
        ).toEqual(expected);
      }),
      { numRuns: 150 },
    );
  });

  it('step() stops after one frame: the next whole frame stays for the caller', () => {
    const log: Log = { frames: [], notCmpp: [] };
    const reader = new CmppFrameReader(sink, log);
    const first = encodeSubmit({
      sequenceId: 1,
      version: '3.0',
      account: '900001',
      srcId: '1',
      recipients: ['1'],
      content: Buffer.from('x'),
    });
    const second = encodeConnect({
      sequenceId: 2,
      account: '900001',
      secret: 's',
      timestamp: 1,
      version: '3.0',
    });
    const both = Buffer.concat([first, second]);
    expect(reader.step(both, 0, both.length)).toBe(first.length);
    expect(log.frames.map((f) => f.sequenceId)).toEqual([1]);
    // The rest of a frame cut by the read's end, then nothing more.
    expect(reader.step(both, first.length, first.length + 20)).toBe(first.length + 20);
    expect(reader.betweenFrames).toBe(false);
    expect(reader.step(both, first.length + 20, both.length)).toBe(both.length);
    expect(reader.betweenFrames).toBe(true);
    expect(log.frames.map((f) => f.sequenceId)).toEqual([1, 2]);
  });

  it('random and truncated bytes never throw and report what the reference finds', () => {
    const bytesArb = fc.oneof(
      fc.uint8Array({ maxLength: 600 }).map((b) => Buffer.from(b)),
      // Valid frames followed by garbage, or a valid stream cut short anywhere.
      fc
        .tuple(fc.array(frameArb, { maxLength: 5 }), fc.uint8Array({ maxLength: 64 }), fc.nat())
        .map(([frames, tail, cut]) => {
          const all = Buffer.concat([...frames, Buffer.from(tail)]);
          return all.subarray(0, cut % (all.length + 1));
        }),
    );
    fc.assert(
      fc.property(bytesArb, cutsArb, (bytes, cuts) => {
        expect(feedChunked(bytes, cuts)).toEqual(reference(bytes));
      }),
      { numRuns: 300 },
    );
  });

  it('stops at a bad Total_Length once, and ignores everything after it', () => {
    const log: Log = { frames: [], notCmpp: [] };
    const reader = new CmppFrameReader(sink, log);
    const good = Buffer.from('0000000c000000080000000a', 'hex');
    const http = Buffer.from('GET / HTTP/1.1\r\n\r\n');
    reader.feed(Buffer.concat([good, http]), 0, good.length + http.length);
    reader.feed(good, 0, good.length);
    expect(reader.notCmpp).toBe(true);
    expect(log.frames).toHaveLength(1);
    expect(log.notCmpp).toEqual([http.readUInt32BE(0)]);
    for (const bad of [11, 4097, 0]) {
      const frame = Buffer.from(good);
      frame.writeUInt32BE(bad, 0);
      const l: Log = { frames: [], notCmpp: [] };
      new CmppFrameReader(sink, l).feed(frame, 0, 12);
      expect(l.notCmpp).toEqual([bad]);
    }
    reader.reset();
    reader.feed(good, 0, good.length);
    expect(log.frames).toHaveLength(2);
  });

  it('hands the body readers a whole CONNECT / SUBMIT prefix even when it straddles reads', () => {
    const connect = encodeConnect({
      sequenceId: 0,
      account: '901234',
      secret: 's',
      timestamp: 1205143000,
      version: '3.0',
    });
    const submit = encodeSubmit({
      sequenceId: 1,
      version: '3.0',
      account: '901234',
      srcId: '10658000',
      recipients: ['13800138000', '13800138001', '13800138002'],
      content: Buffer.from('x'.repeat(150)),
    });
    const seen: string[] = [];
    const bodySink: FrameSink<string[]> = {
      bodyPrefix: (id) => (id === CommandId.CONNECT ? 27 : id === CommandId.SUBMIT ? 129 : 0),
      onFrame(out, commandId, _seq, buf, at, _bytes, total) {
        if (commandId === CommandId.CONNECT) out.push(readConnectAccount(buf, at, total));
        if (commandId === CommandId.SUBMIT) out.push(`n=${readSubmitRecipients(buf, at, total, '3.0')}`);
      },
      onNotCmpp() {},
    };
    const stream = Buffer.concat([connect, submit]);
    for (let cut = 1; cut < stream.length; cut++) {
      const reader = new CmppFrameReader(bodySink, seen);
      reader.feed(stream.subarray(0, cut), 0, cut);
      reader.feed(stream.subarray(cut), 0, stream.length - cut);
    }
    expect(seen.length).toBe(2 * (stream.length - 1));
    expect(new Set(seen)).toEqual(new Set(['901234', 'n=3']));
  });
});
