// `check type tcp` with `steps`: HAProxy's simple tcp-check sequence (docs/health-checks.md). Connect, then run
// the steps in order: a send writes its bytes, an expect reads until its bytes appear in what was read since the
// last send (HAProxy empties its check buffer on each send). All steps pass → L7OK. The server's answer lacks the
// bytes when it closes → L7RSP "TCPCHK did not match content 'x' at step N" (HAProxy's wording; its step 1 is the
// connect). The check timeout while connecting → L4TOUT, while expecting → L7TOUT. One timer per check, none per
// byte; at most LIMITS.checkReadBytes are kept: a server streaming data fails the expect instead of growing it.
import net from 'node:net';
import { LIMITS } from '../../schema/fields.js';
import type { CheckStep } from '../../schema/snapshot.js';
import { errorText, probeEnd, type Probe, type ProbeResult } from './probe.js';
import { CONNECTION_ERRORS } from './tcp-probe.js';

/** A step as bytes, made once per checker (not per check). */
interface CompiledStep {
  send?: Buffer;
  expect?: Buffer;
  /** How HAProxy names the expected content in its messages: `'text'` or `(binary)`. */
  shown: string;
  /** The expect as HAProxy's timeout message names it: `string 'text'` or `binary 'hex'`. */
  timeoutShown: string;
  /** HAProxy's step number: 1 is the connect. */
  number: number;
}

export function compileSteps(steps: readonly CheckStep[]): CompiledStep[] {
  return steps.map((step, i) => {
    const number = i + 2;
    if ('send' in step) return { send: Buffer.from(step.send, 'utf8'), shown: '', timeoutShown: '', number };
    if ('sendBinary' in step)
      return { send: Buffer.from(step.sendBinary, 'hex'), shown: '', timeoutShown: '', number };
    if ('string' in step.expect) {
      const text = step.expect.string;
      return {
        expect: Buffer.from(text, 'utf8'),
        shown: `'${text}'`,
        timeoutShown: `string '${text}'`,
        number,
      };
    }
    const hex = step.expect.binary;
    return { expect: Buffer.from(hex, 'hex'), shown: '(binary)', timeoutShown: `binary '${hex}'`, number };
  });
}

export function tcpCheckProbe(steps: readonly CheckStep[]): Probe {
  const compiled = compileSteps(steps);
  const maxRead = LIMITS.checkReadBytes;
  return (target, timeoutMs, abandon) =>
    new Promise<ProbeResult>((resolve) => {
      let socket: net.Socket | undefined;
      let connected = false;
      let next = 0;
      /** What was read since the last send, at most maxRead bytes. */
      let received = Buffer.alloc(0);
      /** `how` true (flush): a last send may still be queued, so end the connection instead of cutting it. */
      const end = probeEnd<boolean>(
        resolve,
        timeoutMs,
        abandon,
        () => {
          if (!connected) return finish(false, 'L4TOUT', 'Layer4 timeout');
          const step = compiled[next];
          finish(
            false,
            'L7TOUT',
            step?.expect
              ? `Layer7 timeout at step ${step.number} of tcp-check (expect ${step.timeoutShown})`
              : 'Layer7 timeout',
          );
        },
        (flush) => {
          if (socket) close(socket, flush ?? false);
        },
      );
      const finish = end.finish;
      if (end.settled) return;
      const mismatch = (step: CompiledStep) =>
        finish(false, 'L7RSP', `TCPCHK did not match content ${step.shown} at step ${step.number}`);

      /** Runs the steps from `next` until one has to wait for data; `closed`: no more data will come. */
      const advance = (closed: boolean) => {
        while (!end.settled && next < compiled.length) {
          const step = compiled[next];
          if (step.send) {
            received = Buffer.alloc(0);
            // The step's bytes, made once per checker and never changed after: safe to hand to every check's write.
            socket?.write(step.send);
            next++;
            continue;
          }
          const expected = step.expect as Buffer;
          if (received.indexOf(expected) >= 0) {
            next++;
            continue;
          }
          // No more room or no more data: the answer did not hold it.
          if (closed || received.length >= maxRead) return mismatch(step);
          return;
        }
        if (!end.settled && next >= compiled.length) {
          const endsWithSend = compiled[compiled.length - 1]?.send !== undefined;
          finish(true, 'L7OK', `Layer7 check passed: tcp-check, ${compiled.length} steps`, endsWithSend);
        }
      };

      try {
        socket = net.connect({ host: target.address, port: target.port });
      } catch (err) {
        finish(false, 'SOCKERR', errorText(err));
        return;
      }
      socket.setNoDelay(true);
      socket.once('connect', () => {
        connected = true;
        advance(false);
      });
      socket.on('data', (chunk: Buffer) => {
        if (end.settled) return;
        const room = maxRead - received.length;
        received = Buffer.concat([received, room < chunk.length ? chunk.subarray(0, room) : chunk]);
        advance(false);
      });
      socket.once('end', () => advance(true));
      socket.once('error', (err: NodeJS.ErrnoException) => {
        const code = err.code ?? '';
        if (!connected && code === 'ETIMEDOUT') finish(false, 'L4TOUT', 'Layer4 timeout');
        else if (!connected && code in CONNECTION_ERRORS)
          finish(false, 'L4CON', `${CONNECTION_ERRORS[code]} at step 1 of tcp-check (connect)`);
        else if (connected) {
          // A reset while expecting: what was read is all there is (HAProxy evaluates the expect on it).
          advance(true);
          finish(false, 'L7RSP', `TCPCHK: ${errorText(err)}`);
        } else finish(false, 'SOCKERR', errorText(err));
      });
    });
}

/** How long a passed check's connection may take to flush its last send and close before it is destroyed. */
const LINGER_MS = 1000;

function close(socket: net.Socket, flush: boolean): void {
  socket.removeAllListeners();
  socket.on('error', () => {}); // late errors after destroy must not become uncaught
  if (!flush) {
    socket.destroy();
    return;
  }
  socket.end();
  const linger = setTimeout(() => socket.destroy(), LINGER_MS);
  linger.unref();
  socket.once('close', () => clearTimeout(linger));
}
