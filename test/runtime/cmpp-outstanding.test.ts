// The per-session table of outstanding CMPP requests (cmpp-inspect.ts) against a plain Map model: any
// sequence of requests and answers, colliding ids and repeats included, gives the same counts and times.
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { OutstandingTable } from '../../src/runtime/cmpp-inspect.js';

it('matches a Map of counts and oldest send times for any requests and answers', () => {
  const op = fc.record({
    answer: fc.boolean(),
    command: fc.constantFrom(4, 4, 4, 5, 8),
    // Ids that share home slots (0 and 64, 1 and 65, ...) and runs that wrap around the table's end, so probes
    // collide and deletions shift; few enough that repeats are frequent, and some far apart.
    sequenceId: fc.oneof(
      fc.constantFrom(0, 64, 1, 65, 2, 128, 3, 67, 60, 124, 0xffffffff, 0x80000000),
      fc.integer({ min: 0, max: 80 }),
    ),
  });
  fc.assert(
    fc.property(fc.array(op, { minLength: 20, maxLength: 300, size: 'max' }), (ops) => {
      const table = new OutstandingTable();
      const model = new Map<string, { count: number; sentAt: number }>();
      ops.forEach(({ answer, command, sequenceId }, now) => {
        const key = `${command}/${sequenceId}`;
        const entry = model.get(key);
        if (answer) {
          expect(table.take(command, sequenceId)).toBe(entry ? entry.sentAt : -1);
          if (entry && --entry.count === 0) model.delete(key);
        } else {
          const tracked = table.add(command, sequenceId, now);
          // Untracked only when 48 distinct ids are outstanding and this one is new.
          expect(tracked).toBe(entry !== undefined || model.size < 48);
          if (entry) entry.count++;
          else if (tracked) model.set(key, { count: 1, sentAt: now });
        }
        let total = 0;
        for (const e of model.values()) total += e.count;
        expect(table.total).toBe(total);
      });
    }),
    { numRuns: 300 },
  );
});
