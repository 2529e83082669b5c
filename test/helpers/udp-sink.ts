// A UDP socket on loopback collecting the datagrams sent to it, for the tests of the syslog targets.
import dgram from 'node:dgram';
import { once } from 'node:events';

export interface UdpSink {
  port: number;
  /** The datagrams received, as text, in order. */
  lines: string[];
  socket: dgram.Socket;
}

/** Binds 127.0.0.1 on a free port; keeps the first `limit` datagrams (a test sends a handful). */
export async function udpSink(limit = 100): Promise<UdpSink> {
  const socket = dgram.createSocket('udp4');
  const lines: string[] = [];
  socket.on('message', (m) => {
    if (lines.length < limit) lines.push(m.toString());
  });
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  return { port: socket.address().port, lines, socket };
}
