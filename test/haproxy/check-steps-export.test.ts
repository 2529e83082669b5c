// Issue 9: tcp-check steps of any ASCII text without NUL (control characters, quotes, backslashes, `#`, spaces, `$`) export to
// lines Debian's HAProxy 2.6 accepts and that import back as the same steps; and a real HAProxy running the export
// sends the very bytes Tether sends (a recording server compares them).
import { once } from 'node:events';
import net from 'node:net';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { exportHaproxy } from '../../src/haproxy/export.js';
import { parseHaproxyConfig } from '../../src/haproxy/parse.js';
import { checkSnapshot } from '../../src/schema/check.js';
import { emptySnapshot, type CheckStep, type Snapshot } from '../../src/schema/snapshot.js';
import { tcpCheckProbe } from '../../src/runtime/health/tcp-check-probe.js';
import { backend, server, snapshot, waitFor } from '../helpers/net.js';
import { haproxyMissing, startHaproxy, type Haproxy } from '../stats/haproxy.js';
import { haproxyCheck } from './haproxy-check.js';

const missing = haproxyMissing();
if (missing) console.warn(`skipping the tcp-check export tests: ${missing}`);

const RUNS = 25;
const ascii = fc.string({
  unit: fc.integer({ min: 1, max: 127 }).map((c) => String.fromCharCode(c)),
  minLength: 1,
  maxLength: 40,
});
const hex = fc.uint8Array({ minLength: 1, maxLength: 16 }).map((b) => Buffer.from(b).toString('hex'));
const step: fc.Arbitrary<CheckStep> = fc.oneof(
  ascii.map((send) => ({ send })),
  hex.map((sendBinary) => ({ sendBinary })),
  ascii.map((string) => ({ expect: { string } })),
  hex.map((binary) => ({ expect: { binary } })),
);

function withSteps(steps: CheckStep[], port = 6379): Snapshot {
  return snapshot(
    [],
    [
      backend('b', [server('s', port, { check: true, checkPort: port })], {
        check: { type: 'tcp', inter: 1000, fall: 1, rise: 1, steps },
      }),
    ],
    { maxconn: 1000 },
  );
}

describe.skipIf(missing !== undefined)('tcp-check steps in the export', () => {
  it('any ASCII text: haproxy -c accepts the file and the import reads the same steps back', () => {
    let checked = 0;
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 16 }), (steps) => {
        const config = withSteps(steps);
        expect(checkSnapshot(config, { stored: emptySnapshot() })).toEqual([]);
        const text = exportHaproxy(config, { revision: 1, exportedAt: new Date() });
        const check = haproxyCheck(text);
        expect(check.status, `${check.output}\n${text}`).toBe(0);
        const back = parseHaproxyConfig(text).snapshot.backends[0];
        expect(back.check.steps, text).toEqual(steps);
        expect(back.servers[0].checkPort).toBe(6379);
        checked++;
      }),
      {
        numRuns: RUNS,
        interruptAfterTimeLimit: 40_000,
        markInterruptAsFailure: false,
        // A last space once made a line end in `\ `: read back as a line continuation.
        examples: [[[{ send: ' ' }, { expect: { binary: '00' } }]], [[{ expect: { string: 'a\\' } }]]],
      },
    );
    expect(checked).toBeGreaterThan(RUNS / 4);
  }, 90_000);

  describe('a real HAProxy sends what Tether sends', () => {
    let haproxy: Haproxy | undefined;
    let recorder: net.Server | undefined;
    afterAll(async () => {
      await haproxy?.stop();
      recorder?.close();
    });

    it('the same bytes for a text of every tricky character', async () => {
      const tricky = 'A \\ "q" \'s\' #h $x ${HOME} \t\r\n\x01\x7f!';
      const steps: CheckStep[] = [
        { send: tricky },
        { sendBinary: '00ff0d0a' },
        { expect: { string: 'never' } },
      ];
      const received: Buffer[] = [];
      const expected = Buffer.concat([Buffer.from(tricky, 'latin1'), Buffer.from('00ff0d0a', 'hex')]);
      // What each check connection sent, once it sent as many bytes as expected (the check then waits on its expect).
      recorder = net.createServer((socket) => {
        let got = Buffer.alloc(0);
        socket.on('data', (d: Buffer) => {
          got = Buffer.concat([got, d]);
          if (got.length >= expected.length) {
            received.push(got);
            socket.destroy();
          }
        });
        socket.on('error', () => {});
      });
      recorder.listen(0, '127.0.0.1');
      await once(recorder, 'listening');
      const port = (recorder.address() as net.AddressInfo).port;

      // Tether's probe.
      await tcpCheckProbe(steps)({ address: '127.0.0.1', port }, 300);
      await waitFor(() => received.length >= 1, 3000, "Tether's check");
      expect(received[0]).toEqual(expected);

      // HAProxy on Tether's export of the same check.
      const text = exportHaproxy(withSteps(steps, port), { revision: 1, exportedAt: new Date() });
      haproxy = await startHaproxy(text.replace(/^global\n/m, 'global\n    # started by the test\n'));
      await waitFor(() => received.length >= 2, 5000, "HAProxy's check");
      expect(received[1]).toEqual(expected);
    });
  });
});
