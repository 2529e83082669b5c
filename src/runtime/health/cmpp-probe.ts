// `check type cmpp`: a CMPP login (docs/cmpp.md). Connect, send CONNECT with the current timestamp,
// read CONNECT_RESP within the check timeout, then TERMINATE and close, so the check holds one of the
// account's gateway slots for milliseconds. Status 0 → L7OK; another status → L7STS with its meaning;
// no answer → L7TOUT; refused → L4CON; bytes that are not a CONNECT_RESP → L7RSP.
// A wrong AuthenticatorISMG is reported in the description but does not fail the check: some real
// servers compute it wrongly and clients don't check it.
import net from 'node:net';
import { FrameAssembler } from '../../cmpp/assembler.js';
import { ACCOUNT_LENGTH, authenticatorIsmg, authenticatorSource, cmppTimestamp } from '../../cmpp/auth.js';
import {
  CmppDecodeError,
  decodeFrame,
  encodeActiveTestResp,
  encodeConnect,
  encodeTerminate,
} from '../../cmpp/codec.js';
import { CommandId, commandName, connectStatusMeaning } from '../../cmpp/commands.js';
import type { CmppCheck } from '../../schema/snapshot.js';
import { errorText, probeEnd, type Probe, type ProbeResult } from './probe.js';
import { CONNECTION_ERRORS } from './tcp-probe.js';

const CONNECT_SEQUENCE = 1;
const TERMINATE_SEQUENCE = 2;
/** How long a finished check's socket may take to close after TERMINATE before it is destroyed. */
const LINGER_MS = 1000;
/**
 * ACTIVE_TESTs answered before the CONNECT_RESP; past it the peer is not logging us in. A gateway that floods
 * them without reading the answers would otherwise pile them up in the check's write buffer until the timeout.
 */
const MAX_ACTIVE_TESTS = 16;

export function cmppProbe(check: CmppCheck): Probe {
  const { sourceAddr, secret, version } = check;
  // A config stored under older rules may hold an account CONNECT cannot carry: fail each check, never throw.
  const unusable = Buffer.byteLength(sourceAddr, 'utf8') > ACCOUNT_LENGTH;
  if (unusable) {
    const description = `CMPP check account is ${Buffer.byteLength(sourceAddr, 'utf8')} bytes, at most ${ACCOUNT_LENGTH}`;
    return () => Promise.resolve({ ok: false, status: 'SOCKERR', durationMs: 0, description });
  }
  return (target, timeoutMs, abandon) =>
    new Promise<ProbeResult>((resolve) => {
      let socket: net.Socket | undefined;
      let connected = false;
      let sentAuthenticator: Buffer | undefined;
      let activeTests = 0;
      const frames = new FrameAssembler();
      /** `how` (goodbye): the TERMINATE written for a session that was opened. */
      const end = probeEnd<Buffer>(
        resolve,
        timeoutMs,
        abandon,
        () =>
          connected
            ? finish(false, 'L7TOUT', `Layer7 timeout: no CONNECT_RESP within ${timeoutMs} ms`)
            : finish(false, 'L4TOUT', 'Layer4 timeout'),
        (goodbye) => {
          if (socket) close(socket, goodbye);
        },
      );
      const finish = end.finish;
      if (end.settled) return;

      const onFrame = (raw: Buffer) => {
        if (end.settled) return;
        const commandId = raw.readUInt32BE(4);
        if (commandId === CommandId.ACTIVE_TEST) {
          if (++activeTests > MAX_ACTIVE_TESTS) {
            finish(false, 'L7RSP', `CMPP: more than ${MAX_ACTIVE_TESTS} ACTIVE_TEST instead of CONNECT_RESP`);
            return;
          }
          // Some gateways send ACTIVE_TEST right after accept, before any login: answer and wait on.
          socket?.write(encodeActiveTestResp(raw.readUInt32BE(8)));
          return;
        }
        if (commandId !== CommandId.CONNECT_RESP) {
          finish(false, 'L7RSP', `CMPP: ${commandName(commandId)} instead of CONNECT_RESP`);
          return;
        }
        let frame;
        try {
          frame = decodeFrame(raw);
        } catch (err) {
          if (!(err instanceof CmppDecodeError)) throw err;
          finish(false, 'L7RSP', `CMPP: malformed CONNECT_RESP (${err.message})`);
          return;
        }
        if (frame.command !== 'CONNECT_RESP') return;
        const answered = `CMPP ${frame.layout}`;
        if (frame.status !== 0) {
          finish(
            false,
            'L7STS',
            `${answered} login refused: status ${frame.status} (${connectStatusMeaning(frame.status)})`,
            undefined,
            frame.status,
          );
          return;
        }
        const expected = authenticatorIsmg(0, sentAuthenticator as Buffer, secret, frame.layout);
        const note = expected.equals(frame.authenticator) ? '' : ', AuthenticatorISMG mismatch';
        finish(
          true,
          'L7OK',
          `${answered} login ok (status 0${note})`,
          encodeTerminate(TERMINATE_SEQUENCE),
          0,
        );
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
        const timestamp = cmppTimestamp();
        sentAuthenticator = authenticatorSource(sourceAddr, secret, timestamp);
        socket?.write(
          encodeConnect({ sequenceId: CONNECT_SEQUENCE, account: sourceAddr, secret, timestamp, version }),
        );
      });
      socket.on('data', (chunk: Buffer) => {
        if (end.settled) return;
        if (!frames.push(chunk, onFrame)) finish(false, 'L7RSP', 'not CMPP: bad Total_Length in the answer');
      });
      socket.once('end', () => finish(false, 'L7RSP', 'CMPP: connection closed before CONNECT_RESP'));
      socket.once('error', (err: NodeJS.ErrnoException) => {
        const code = err.code ?? '';
        if (!connected && code === 'ETIMEDOUT') finish(false, 'L4TOUT', 'Layer4 timeout');
        else if (!connected && code in CONNECTION_ERRORS) finish(false, 'L4CON', CONNECTION_ERRORS[code]);
        else if (connected) finish(false, 'L7RSP', `CMPP: ${errorText(err)} before CONNECT_RESP`);
        else finish(false, 'SOCKERR', errorText(err));
      });
    });
}

/** Ends the check's connection: TERMINATE first if a session was opened, destroyed if it lingers. */
function close(socket: net.Socket, goodbye: Buffer | undefined): void {
  socket.removeAllListeners('data');
  socket.removeAllListeners('end');
  socket.removeAllListeners('connect');
  socket.removeAllListeners('error');
  socket.on('error', () => {}); // late errors after the result must not become uncaught
  if (!goodbye || socket.destroyed) {
    socket.destroy();
    return;
  }
  // The TERMINATE_RESP (and anything else) is read and dropped; the peer closes, or we do shortly.
  socket.on('data', () => {});
  const linger = setTimeout(() => socket.destroy(), LINGER_MS);
  linger.unref();
  socket.once('close', () => clearTimeout(linger));
  socket.end(goodbye);
}
