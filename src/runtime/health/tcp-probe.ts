// `check type tcp`: the server is healthy if a TCP connection opens within the timeout (HAProxy's
// plain layer-4 check). The socket is closed at once; nothing is sent.
import net from 'node:net';
import { errorText, probeEnd, type Probe, type ProbeResult } from './probe.js';

// Errors that mean "reached the network, the server said no or wasn't there": HAProxy's L4CON.
export const CONNECTION_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'Connection refused',
  ECONNRESET: 'Connection reset by peer',
  EHOSTUNREACH: 'No route to host',
  ENETUNREACH: 'Network is unreachable',
  EHOSTDOWN: 'Host is down',
  ENETDOWN: 'Network is down',
  EPIPE: 'Broken pipe',
};

export const tcpProbe: Probe = (target, timeoutMs, abandon) =>
  new Promise<ProbeResult>((resolve) => {
    let socket: net.Socket | undefined;
    const end = probeEnd(
      resolve,
      timeoutMs,
      abandon,
      () => finish(false, 'L4TOUT', 'Layer4 timeout'),
      () => {
        if (!socket) return;
        socket.removeAllListeners();
        socket.on('error', () => {}); // late errors after destroy must not become uncaught
        socket.destroy();
      },
    );
    const finish = end.finish;
    if (end.settled) return;

    try {
      socket = net.connect({ host: target.address, port: target.port });
    } catch (err) {
      // Synchronous failures: bad port, bad address family and the like.
      finish(false, 'SOCKERR', errorText(err));
      return;
    }
    socket.once('connect', () => finish(true, 'L4OK', 'Layer4 check passed'));
    socket.once('error', (err: NodeJS.ErrnoException) => {
      const code = err.code ?? '';
      if (code === 'ETIMEDOUT') finish(false, 'L4TOUT', 'Layer4 timeout');
      else if (code in CONNECTION_ERRORS) finish(false, 'L4CON', CONNECTION_ERRORS[code]);
      else finish(false, 'SOCKERR', errorText(err));
    });
  });
