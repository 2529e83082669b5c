// Interoperability with a protocol stack we didn't write: the `smpp` package's client and server
// talk through the runtime. Every PDU must arrive intact, once, in order.
import smpp, { type PDU, type Session } from 'smpp';
import { afterEach, expect, it } from 'vitest';
import { ProxyRuntime } from '../../src/runtime/runtime.js';
import { backend, freePort, frontend, server, snapshot } from '../helpers/net.js';
import { testNodeInternals } from '../helpers/internals.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const COUNT = 1000;

function text(pdu: PDU): string {
  const m = pdu.short_message;
  if (m === undefined) return '';
  if (typeof m === 'string') return m;
  if (Buffer.isBuffer(m)) return m.toString();
  return m.message ?? '';
}

it('carries bind_transceiver, 1,000 submit_sm, enquire_link and unbind between smpp client and server', async () => {
  const seen: Array<{ command: string; seq: number; text: string }> = [];
  const smsc = smpp.createServer((session: Session) => {
    session.on('error', () => {});
    session.on('pdu', (pdu: PDU) => {
      seen.push({ command: pdu.command, seq: pdu.sequence_number, text: text(pdu) });
      if (pdu.command === 'bind_transceiver') session.send(pdu.response({ system_id: 'SMSC' }));
      else if (pdu.command === 'submit_sm') session.send(pdu.response({ message_id: `id:${text(pdu)}` }));
      else if (pdu.command === 'enquire_link') session.send(pdu.response());
      else if (pdu.command === 'unbind') {
        session.send(pdu.response());
        session.close();
      }
    });
  });
  await new Promise<void>((resolve) => smsc.listen(0, '127.0.0.1', () => resolve()));
  cleanups.push(() => new Promise<void>((resolve) => smsc.close(() => resolve())));

  const port = await freePort();
  const rt = new ProxyRuntime({ nodeInternals: testNodeInternals });
  cleanups.push(() => rt.close());
  await rt.apply(
    snapshot([frontend('smpp', port, 'smsc')], [backend('smsc', [server('smsc1', smsc.address().port)])]),
  );

  const client = smpp.connect({ url: `smpp://127.0.0.1:${port}` });
  client.on('error', () => {});
  cleanups.push(() => client.destroy());
  await new Promise<void>((resolve) => client.once('connect', () => resolve()));

  const bound = await new Promise<PDU>((resolve) =>
    client.bind_transceiver({ system_id: 'ESME', password: 'secret' }, resolve),
  );
  expect(bound).toMatchObject({ command: 'bind_transceiver_resp', command_status: 0, system_id: 'SMSC' });

  const responses = await Promise.all(
    Array.from(
      { length: COUNT },
      (_, i) =>
        new Promise<PDU>((resolve) =>
          client.submit_sm(
            {
              source_addr: 'TETHER',
              destination_addr: `86138${String(i).padStart(6, '0')}`,
              short_message: `message ${i}`,
            },
            resolve,
          ),
        ),
    ),
  );
  responses.forEach((resp, i) => {
    expect(resp.command).toBe('submit_sm_resp');
    expect(resp.command_status).toBe(0);
    expect(resp.message_id).toBe(`id:message ${i}`);
  });

  const link = await new Promise<PDU>((resolve) => client.enquire_link({}, resolve));
  expect(link.command).toBe('enquire_link_resp');
  const unbound = await new Promise<PDU>((resolve) => client.unbind({}, resolve));
  expect(unbound.command).toBe('unbind_resp');
  await new Promise<void>((resolve) => client.once('close', () => resolve()));

  // The server saw every PDU exactly once, in order, with consecutive sequence numbers.
  expect(seen.map((p) => p.command)).toEqual([
    'bind_transceiver',
    ...Array<string>(COUNT).fill('submit_sm'),
    'enquire_link',
    'unbind',
  ]);
  seen.forEach((p, i) => expect(p.seq).toBe(seen[0].seq + i));
  seen.slice(1, COUNT + 1).forEach((p, i) => expect(p.text).toBe(`message ${i}`));
  const responseSeqs = responses.map((r) => r.sequence_number);
  expect(responseSeqs).toEqual(seen.slice(1, COUNT + 1).map((p) => p.seq));

  const stats = await rt.stats();
  expect(stats.frontends[0]).toMatchObject({ stot: 1 });
  expect(stats.frontends[0].bin).toBeGreaterThan(COUNT * 30);
});
