import type net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { tcpProbe } from './tcp-probe.js';
import {
  blackhole,
  closedPort,
  closeServer,
  listeningServer,
  portOf,
  type Blackhole,
} from '../../../test/helpers/health-targets.js';

describe('tcpProbe', () => {
  let server: net.Server | undefined;
  let hole: Blackhole | undefined;
  afterEach(async () => {
    if (server) await closeServer(server);
    if (hole) await hole.close();
    server = undefined;
    hole = undefined;
  });

  it('passes (L4OK) when the port accepts, and closes its connection', async () => {
    server = await listeningServer();
    let opened = 0;
    let closed = 0;
    server.on('connection', (socket) => {
      opened++;
      socket.on('close', () => closed++);
    });
    const result = await tcpProbe({ address: '127.0.0.1', port: portOf(server) }, 1000);
    expect(result).toMatchObject({ ok: true, status: 'L4OK', description: 'Layer4 check passed' });
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    expect(result.durationMs).toBeLessThan(1000);
    const deadline = Date.now() + 2000;
    while ((opened === 0 || closed < opened) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    expect(opened).toBe(1);
    expect(closed).toBe(1);
  });

  it('fails with L4CON "Connection refused" on a closed port', async () => {
    const result = await tcpProbe({ address: '127.0.0.1', port: await closedPort() }, 1000);
    expect(result).toMatchObject({ ok: false, status: 'L4CON', description: 'Connection refused' });
  });

  it('fails with L4TOUT when the connection does not open within the timeout', async () => {
    hole = await blackhole();
    const result = await tcpProbe({ address: '127.0.0.1', port: hole.port }, 200);
    expect(result).toMatchObject({ ok: false, status: 'L4TOUT', description: 'Layer4 timeout' });
    expect(result.durationMs).toBeGreaterThanOrEqual(190);
    expect(result.durationMs).toBeLessThan(1500);
  });

  it('reports SOCKERR instead of throwing on an unusable target', async () => {
    const badPort = await tcpProbe({ address: '127.0.0.1', port: 70000 }, 500);
    expect(badPort).toMatchObject({ ok: false, status: 'SOCKERR' });
    expect(badPort.description).toMatch(/port/i);
    const badAddress = await tcpProbe({ address: 'no-such-host.invalid', port: 9 }, 2000);
    expect(badAddress.ok).toBe(false);
    expect(['SOCKERR', 'L4TOUT']).toContain(badAddress.status);
  });
});
