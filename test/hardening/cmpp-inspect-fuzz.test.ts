// The inspection's readers fed hostile streams, both ways: frames of every command (answers sent by the
// client, requests sent by the server, wrong lengths for their command), cut at any byte. Nothing may throw:
// the relay calls this from a socket's 'data' handler, where a throw kills the process.
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { CommandId } from '../../src/cmpp/commands.js';
import { CmppInspection, type InspectedSession } from '../../src/runtime/cmpp-inspect.js';
import { CmppAccounts, CmppCounters } from '../../src/runtime/cmpp-stats.js';

const COMMANDS = [...Object.values(CommandId), 0, 0x80000000, 0xffffffff];

/** One frame: a sane Total_Length (the reader gives up on others), any command, random body bytes. */
const frame = fc
  .record({
    command: fc.constantFrom(...COMMANDS),
    // Lengths that match one of the readers' layouts are the interesting ones; any other sane length too.
    length: fc.oneof(fc.constantFrom(12, 21, 24, 30, 33, 39, 40), fc.integer({ min: 12, max: 300 })),
    sequenceId: fc.integer({ min: 0, max: 0xffffffff }),
    seed: fc.integer({ min: 0, max: 255 }),
  })
  .map(({ command, length, sequenceId, seed }) => {
    const b = Buffer.alloc(length, seed);
    b.writeUInt32BE(length, 0);
    b.writeUInt32BE(command, 4);
    b.writeUInt32BE(sequenceId, 8);
    return b;
  });

/** A stream cut into chunks at the given sizes; each chunk is its own exactly-sized Buffer, as a socket read is. */
function chunks(stream: Buffer, cuts: number[]): Buffer[] {
  const out: Buffer[] = [];
  let pos = 0;
  for (const cut of cuts) {
    if (pos >= stream.length) break;
    out.push(Buffer.from(stream.subarray(pos, pos + cut)));
    pos += cut;
  }
  if (pos < stream.length) out.push(Buffer.from(stream.subarray(pos)));
  return out;
}

it('never throws on any frames cut at any byte, either way', () => {
  fc.assert(
    fc.property(
      fc.array(frame, { minLength: 1, maxLength: 30 }),
      fc.array(frame, { minLength: 1, maxLength: 30 }),
      fc.array(fc.integer({ min: 1, max: 50 }), { maxLength: 200 }),
      (upFrames, downFrames, cuts) => {
        const session: InspectedSession = {
          inspection: null,
          account: undefined,
          server: null,
          electAfterAccount: () => {},
        };
        const ins = new CmppInspection(session, new CmppCounters(), new CmppAccounts(), false);
        session.inspection = ins;
        const up = chunks(Buffer.concat(upFrames), cuts);
        const down = chunks(Buffer.concat(downFrames), cuts);
        for (let i = 0; i < Math.max(up.length, down.length); i++) {
          if (i < up.length) ins.feedUp(up[i], 0, up[i].length);
          if (i < down.length) ins.feedDown(down[i], 0, down[i].length);
        }
        ins.fold();
        expect(ins.frontend!.up.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(upFrames.length);
      },
    ),
    { numRuns: 300 },
  );
});
