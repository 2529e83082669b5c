// Checked against an implementation we didn't write (issue 11, point 6): the frames Tether writes itself
// (the login check's CONNECT and TERMINATE, a refusal's CONNECT_RESP) and a sample of the simulators'
// frames, captured on a real connection, decode with Debian's tshark CMPP dissector (3.0 layout) to the
// same fields our codec reads. text2pcap wraps each frame in a TCP packet; tshark -d tcp.port==7890,cmpp.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FrameAssembler } from '../../src/cmpp/assembler.js';
import { authenticatorIsmg, authenticatorSource } from '../../src/cmpp/auth.js';
import {
  type CmppFrame,
  decodeFrame,
  encodeActiveTestResp,
  encodeConnectResp,
  encodeTerminateResp,
} from '../../src/cmpp/codec.js';
import { commandName } from '../../src/cmpp/commands.js';
import { cmppProbe } from '../../src/runtime/health/cmpp-probe.js';
import { startGateway } from '../../src/sim/gateway.js';
import { startSp } from '../../src/sim/sp.js';
import { waitFor } from '../helpers/net.js';

const missing = ['tshark', 'text2pcap'].find((tool) => spawnSync(tool, ['--version']).error !== undefined);
const GATEWAY_PORT = 7890;
const dir = mkdtempSync(join(tmpdir(), 'tether-tshark-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Layer = Record<string, unknown>;
let files = 0;

/** Each frame as one TCP packet (SP→gateway or gateway→SP), decoded by tshark; the cmpp layer of each. */
function dissect(frames: Buffer[], fromGateway: boolean): Layer[] {
  const n = files++;
  const hex = frames
    .map((f) => {
      let text = '';
      for (let i = 0; i < f.length; i += 16)
        text += `${i.toString(16).padStart(6, '0')} ${[...f.subarray(i, i + 16)].map((b) => b.toString(16).padStart(2, '0')).join(' ')}\n`;
      return text;
    })
    .join('');
  const dump = join(dir, `${n}.txt`);
  const pcap = join(dir, `${n}.pcap`);
  writeFileSync(dump, hex);
  const ports = fromGateway ? `${GATEWAY_PORT},40000` : `40000,${GATEWAY_PORT}`;
  execFileSync('text2pcap', ['-q', '-T', ports, dump, pcap], { stdio: 'ignore' });
  const json = execFileSync('tshark', ['-r', pcap, '-d', `tcp.port==${GATEWAY_PORT},cmpp`, '-T', 'json'], {
    stdio: ['ignore', 'pipe', 'ignore'],
    maxBuffer: 64 * 1024 * 1024,
  }).toString();
  const packets = JSON.parse(json) as { _source: { layers: Record<string, Layer> } }[];
  expect(packets).toHaveLength(frames.length);
  return packets.map(({ _source: { layers } }) => {
    // The dissector found nothing wrong: no malformed-packet or expert marks.
    expect(Object.keys(layers).filter((k) => k.startsWith('_ws'))).toEqual([]);
    expect(layers.cmpp, JSON.stringify(layers)).toBeDefined();
    return layers.cmpp;
  });
}

function splitFrames(bytes: Buffer): Buffer[] {
  const frames: Buffer[] = [];
  expect(new FrameAssembler().push(bytes, (f) => frames.push(Buffer.from(f)))).toBe(true);
  return frames;
}

const hex8 = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;
const pad = (n: number) => String(n).padStart(2, '0');

/** The fields tshark must show for a frame, from our own decoding of it. */
function expectedFields(f: CmppFrame): Layer {
  const header = {
    'cmpp.Total_Length': String(f.totalLength),
    'cmpp.Command_Id': hex8(f.commandId),
    'cmpp.Sequence_Id': String(f.sequenceId),
  };
  switch (f.command) {
    case 'CONNECT': {
      const t = String(f.timestamp).padStart(10, '0');
      return {
        ...header,
        'cmpp.connect.Source_Addr': f.account,
        'cmpp.Version': `${pad(f.version >> 4)}.${pad(f.version & 15)}`,
        'cmpp.connect.Timestamp': `${t.slice(0, 2)}/${t.slice(2, 4)} ${t.slice(4, 6)}:${t.slice(6, 8)}:${t.slice(8, 10)}`,
      };
    }
    case 'CONNECT_RESP':
      return {
        ...header,
        'cmpp.connect_resp.Status': String(f.status),
        'cmpp.Version': `${pad(f.version >> 4)}.${pad(f.version & 15)}`,
      };
    case 'SUBMIT':
      return {
        ...header,
        'cmpp.Msg_Id': `0x${f.msgId.toString('hex')}`,
        'cmpp.submit.Registered_Delivery': String(f.registeredDelivery),
        'cmpp.submit.DestUsr_tl': String(f.recipients.length),
        'cmpp.Dest_terminal_Id': f.recipients[0],
        'cmpp.Msg_Length': String(f.content.length),
      };
    case 'SUBMIT_RESP':
      return {
        ...header,
        'cmpp.Msg_Id': `0x${f.msgId.toString('hex')}`,
        'cmpp.submit_resp.Result': String(f.result),
      };
    case 'DELIVER_RESP':
      return {
        ...header,
        'cmpp.Msg_Id': `0x${f.msgId.toString('hex')}`,
        'cmpp.deliver_resp.Result': String(f.result),
      };
    case 'DELIVER':
      return {
        ...header,
        'cmpp.deliver.Registered_Delivery': String(f.registeredDelivery),
        'cmpp.Msg_Length': String(f.content.length),
        ...(f.reportStat !== undefined && {
          'cmpp.deliver.Report': expect.objectContaining({
            'cmpp.deliver.Report.Status': f.reportStat,
            'cmpp.Msg_Id': `0x${f.reportMsgId!.toString('hex')}`,
          }),
        }),
      };
    default:
      return header;
  }
}

function expectSameAsCodec(frames: Buffer[], fromGateway: boolean): void {
  const layers = dissect(frames, fromGateway);
  frames.forEach((frame, i) => {
    const decoded = decodeFrame(frame);
    expect(layers[i], `${commandName(decoded.commandId)} #${decoded.sequenceId}`).toMatchObject(
      expectedFields(decoded),
    );
  });
}

describe.skipIf(missing !== undefined)('tshark decodes the CMPP Tether and its simulators write', () => {
  it('the login check CONNECT (3.0 and 2.0) and its TERMINATE, as written on a real connection', async () => {
    for (const version of ['3.0', '2.0'] as const) {
      let received = Buffer.alloc(0);
      const server = net.createServer((socket) => {
        socket.on('error', () => {});
        socket.on('data', (chunk: Buffer) => {
          const first = received.length < 39;
          received = Buffer.concat([received, chunk]);
          if (first && received.length >= 39) {
            const connect = decodeFrame(received.subarray(0, 39));
            if (connect.command !== 'CONNECT') throw new Error('expected CONNECT');
            const source = authenticatorSource('901234', 's3cret', connect.timestamp);
            expect(source.equals(connect.authenticator)).toBe(true);
            socket.write(
              encodeConnectResp({
                sequenceId: connect.sequenceId,
                status: 0,
                authenticator: authenticatorIsmg(0, source, 's3cret', version),
                version,
              }),
            );
          }
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const port = (server.address() as net.AddressInfo).port;
        const result = await cmppProbe({ sourceAddr: '901234', secret: 's3cret', version })(
          { address: '127.0.0.1', port },
          3000,
        );
        expect(result.status).toBe('L7OK');
        await waitFor(() => received.length >= 39 + 12, 5000, 'CONNECT and TERMINATE');
      } finally {
        server.close();
      }
      const frames = splitFrames(received);
      expect(frames.map((f) => decodeFrame(f).command)).toEqual(['CONNECT', 'TERMINATE']);
      expectSameAsCodec(frames, false);
    }
  });

  it('the answers Tether writes itself: a refusal with a zero authenticator, TERMINATE_RESP, ACTIVE_TEST_RESP', () => {
    const frames = [
      encodeConnectResp({ sequenceId: 0, status: 5, version: '3.0' }),
      encodeTerminateResp(7),
      encodeActiveTestResp(0xfffffffe),
    ];
    expectSameAsCodec(frames, true);
    expect(dissect([frames[0]], true)[0]['cmpp.connect_resp.AuthenticatorISMG']).toBeDefined();
  });

  it('a sample of a simulator session in both directions (login, SUBMIT, reports, heartbeat, TERMINATE)', async () => {
    const gateway = await startGateway({ ports: [0], accounts: [{ account: '901234', secret: 's' }] });
    const toGateway: Buffer[] = [];
    const fromGateway: Buffer[] = [];
    // A recording relay between the SP and the gateway: the bytes as they crossed the wire.
    const relay = net.createServer((client) => {
      const upstream = net.connect({ host: '127.0.0.1', port: gateway.ports[0] });
      for (const s of [client, upstream]) s.on('error', () => {});
      client.on('data', (d: Buffer) => {
        toGateway.push(d);
        upstream.write(d);
      });
      upstream.on('data', (d: Buffer) => {
        fromGateway.push(d);
        client.write(d);
      });
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    const sp = startSp({
      host: '127.0.0.1',
      port: (relay.address() as net.AddressInfo).port,
      account: '901234',
      secret: 's',
      rate: 500,
      window: 8,
      total: 20,
      heartbeatMs: 50,
    });
    try {
      const done = () => {
        const g = gateway.counters()[0];
        return sp.counters().acked === 20 && g.reportsAcked === 20 && g.activeTests > 0;
      };
      await waitFor(done, 10_000, 'a whole session with a heartbeat');
      await sp.stop();
      await waitFor(() => gateway.counters()[0].open === 0, 5000, 'closed');
    } finally {
      relay.close();
      await gateway.close();
    }
    for (const [bytes, fromGw] of [
      [Buffer.concat(toGateway), false],
      [Buffer.concat(fromGateway), true],
    ] as const) {
      const frames = splitFrames(bytes);
      // The first two frames of each command: a bounded, varied sample.
      const seen = new Map<number, number>();
      const sample = frames.filter((f) => {
        const id = f.readUInt32BE(4);
        seen.set(id, (seen.get(id) ?? 0) + 1);
        return seen.get(id)! <= 2;
      });
      const commands = new Set(sample.map((f) => decodeFrame(f).command));
      expect([...commands].sort()).toEqual(
        fromGw
          ? ['ACTIVE_TEST_RESP', 'CONNECT_RESP', 'DELIVER', 'SUBMIT_RESP', 'TERMINATE_RESP'].sort()
          : ['ACTIVE_TEST', 'CONNECT', 'DELIVER_RESP', 'SUBMIT', 'TERMINATE'].sort(),
      );
      expectSameAsCodec(sample, fromGw);
    }
  });
});
