// CMPP 2.0/3.0 bodies: small readers the relay can call on a frame's body in place (no allocation,
// bodies located by the frame reader), a whole-frame decoder for the simulators and tests, and the
// encoders for every frame Tether or the simulators write. Layouts and lengths: docs/cmpp.md.
import { ACCOUNT_LENGTH, AUTHENTICATOR_LENGTH, accountBytes, authenticatorSource } from './auth.js';
import {
  type CmppVersion,
  CommandId,
  HEADER_LENGTH,
  Length,
  MAX_FRAME_LENGTH,
  MIN_FRAME_LENGTH,
  versionByte,
} from './commands.js';

// ---- Body offsets (relative to the body, i.e. after the 12-byte header) ----

/** CONNECT: Source_Addr 6, AuthenticatorSource 16, Version 1, Timestamp 4. */
const CONNECT_AUTH_AT = ACCOUNT_LENGTH;
const CONNECT_VERSION_AT = CONNECT_AUTH_AT + AUTHENTICATOR_LENGTH;
const CONNECT_TIMESTAMP_AT = CONNECT_VERSION_AT + 1;

/** DELIVER: Registered_Delivery and Msg_Length offsets per version; fixed length without content. */
const DELIVER_3_0 = { registeredAt: 75, msgLengthAt: 76, fixed: 109, srcTerminal: 32, reserved: 20 };
const DELIVER_2_0 = { registeredAt: 63, msgLengthAt: 64, fixed: 85, srcTerminal: 21, reserved: 8 };

/** SUBMIT: DestUsr_tl offset, per-recipient width, fixed length without recipients/content. */
const SUBMIT_3_0 = { recipientsAt: 128, terminalWidth: 32, fixed: 163 };
const SUBMIT_2_0 = { recipientsAt: 116, terminalWidth: 21, fixed: 138 };

/**
 * How many body bytes each reader below needs: what a frame reader must hold for a body that
 * straddles reads. The largest is DELIVER 3.0's (Registered_Delivery and Msg_Length at 75..76).
 */
export const BODY_PREFIX = {
  CONNECT: Length.CONNECT - HEADER_LENGTH,
  CONNECT_RESP: Length.CONNECT_RESP_3_0 - HEADER_LENGTH,
  RESP: Length.RESP_3_0 - HEADER_LENGTH,
  DELIVER: DELIVER_3_0.msgLengthAt + 1,
  SUBMIT: SUBMIT_3_0.recipientsAt + 1,
} as const;

// ---- In-place body readers: (buf, bodyOffset, totalLength), never allocate except where noted ----

export function isSaneLength(totalLength: number): boolean {
  return totalLength >= MIN_FRAME_LENGTH && totalLength <= MAX_FRAME_LENGTH;
}

/** CONNECT's Version byte, or -1 if the frame is not a 39-byte CONNECT. */
export function readConnectVersion(buf: Uint8Array, bodyOffset: number, totalLength: number): number {
  return totalLength === Length.CONNECT ? buf[bodyOffset + CONNECT_VERSION_AT] : -1;
}

/** CONNECT's Source_Addr without its zero padding ('' if not a 39-byte CONNECT). Allocates the string. */
export function readConnectAccount(buf: Buffer, bodyOffset: number, totalLength: number): string {
  if (totalLength !== Length.CONNECT) return '';
  let end = bodyOffset + ACCOUNT_LENGTH;
  while (end > bodyOffset && buf[end - 1] === 0) end--;
  return buf.toString('latin1', bodyOffset, end);
}

/** CONNECT_RESP's Status decoded by length (30 = 2.0, 33 = 3.0), -1 for any other length. */
export function readConnectRespStatus(buf: Buffer, bodyOffset: number, totalLength: number): number {
  if (totalLength === Length.CONNECT_RESP_3_0) return buf.readUInt32BE(bodyOffset);
  if (totalLength === Length.CONNECT_RESP_2_0) return buf[bodyOffset];
  return -1;
}

/** SUBMIT_RESP / DELIVER_RESP Result by length (21 = 2.0, 24 = 3.0), -1 for any other length. */
export function readRespResult(buf: Buffer, bodyOffset: number, totalLength: number): number {
  if (totalLength === Length.RESP_3_0) return buf.readUInt32BE(bodyOffset + 8);
  if (totalLength === Length.RESP_2_0) return buf[bodyOffset + 8];
  return -1;
}

/**
 * The layout a DELIVER of this length fits: its Msg_Length byte must account for the total length.
 * The session's version is tried first (a 3.0 layout can fit a 2.0 length by accident); null if neither fits.
 */
export function deliverVersion(
  buf: Uint8Array,
  bodyOffset: number,
  totalLength: number,
  hint: CmppVersion = '3.0',
): CmppVersion | null {
  const order: CmppVersion[] = hint === '2.0' ? ['2.0', '3.0'] : ['3.0', '2.0'];
  for (const v of order) {
    const layout = v === '3.0' ? DELIVER_3_0 : DELIVER_2_0;
    if (totalLength < layout.fixed) continue;
    if (totalLength === layout.fixed + buf[bodyOffset + layout.msgLengthAt]) return v;
  }
  return null;
}

/** DELIVER's Registered_Delivery (1 = status report), -1 if the length fits no layout. */
export function readDeliverRegistered(
  buf: Uint8Array,
  bodyOffset: number,
  totalLength: number,
  hint?: CmppVersion,
): number {
  const v = deliverVersion(buf, bodyOffset, totalLength, hint);
  if (v === null) return -1;
  return buf[bodyOffset + (v === '3.0' ? DELIVER_3_0 : DELIVER_2_0).registeredAt];
}

/** SUBMIT's recipient count (DestUsr_tl), -1 if the frame is too short for the version's layout. */
export function readSubmitRecipients(
  buf: Uint8Array,
  bodyOffset: number,
  totalLength: number,
  version: CmppVersion,
): number {
  const layout = version === '3.0' ? SUBMIT_3_0 : SUBMIT_2_0;
  return totalLength >= layout.fixed ? buf[bodyOffset + layout.recipientsAt] : -1;
}

// ---- Whole-frame decoding (simulators, tests, the health probe) ----

export interface FrameHeader {
  totalLength: number;
  commandId: number;
  sequenceId: number;
}

export function readHeader(buf: Buffer, offset = 0): FrameHeader {
  return {
    totalLength: buf.readUInt32BE(offset),
    commandId: buf.readUInt32BE(offset + 4),
    sequenceId: buf.readUInt32BE(offset + 8),
  };
}

export type CmppFrame =
  | (FrameHeader & {
      command: 'CONNECT';
      account: string;
      authenticator: Buffer;
      version: number;
      timestamp: number;
    })
  | (FrameHeader & {
      command: 'CONNECT_RESP';
      status: number;
      authenticator: Buffer;
      version: number;
      layout: CmppVersion;
    })
  | (FrameHeader & {
      command: 'SUBMIT_RESP' | 'DELIVER_RESP';
      msgId: Buffer;
      result: number;
      layout: CmppVersion;
    })
  | (FrameHeader & {
      command: 'SUBMIT';
      layout: CmppVersion;
      msgId: Buffer;
      registeredDelivery: number;
      recipients: string[];
      content: Buffer;
    })
  | (FrameHeader & {
      command: 'DELIVER';
      layout: CmppVersion;
      msgId: Buffer;
      registeredDelivery: number;
      content: Buffer;
      /** Msg_Id of the SUBMIT a status report is about (registeredDelivery 1 only). */
      reportMsgId?: Buffer;
      reportStat?: string;
    })
  | (FrameHeader & {
      command: 'TERMINATE' | 'TERMINATE_RESP' | 'ACTIVE_TEST' | 'ACTIVE_TEST_RESP' | 'OTHER';
    });

/** Why a frame could not be decoded. */
export class CmppDecodeError extends Error {}

/**
 * Decodes one whole frame starting at `offset` (the buffer may hold more). SUBMIT uses `version`
 * (the session's), the other bodies decode by length. Throws CmppDecodeError on a malformed frame.
 */
export function decodeFrame(buf: Buffer, offset = 0, version: CmppVersion = '3.0'): CmppFrame {
  if (buf.length - offset < HEADER_LENGTH) throw new CmppDecodeError('shorter than a header');
  const header = readHeader(buf, offset);
  const { totalLength, commandId } = header;
  if (!isSaneLength(totalLength)) throw new CmppDecodeError(`Total_Length ${totalLength} out of 12..4096`);
  if (buf.length - offset < totalLength) throw new CmppDecodeError('frame is incomplete');
  const body = offset + HEADER_LENGTH;
  const bad = (what: string) => new CmppDecodeError(`${what} with Total_Length ${totalLength}`);
  switch (commandId) {
    case CommandId.CONNECT:
      if (totalLength !== Length.CONNECT) throw bad('CONNECT');
      return {
        ...header,
        command: 'CONNECT',
        account: readConnectAccount(buf, body, totalLength),
        authenticator: Buffer.from(buf.subarray(body + CONNECT_AUTH_AT, body + CONNECT_VERSION_AT)),
        version: buf[body + CONNECT_VERSION_AT],
        timestamp: buf.readUInt32BE(body + CONNECT_TIMESTAMP_AT),
      };
    case CommandId.CONNECT_RESP: {
      const status = readConnectRespStatus(buf, body, totalLength);
      if (status < 0) throw bad('CONNECT_RESP');
      const at = body + (totalLength === Length.CONNECT_RESP_3_0 ? 4 : 1);
      return {
        ...header,
        command: 'CONNECT_RESP',
        status,
        authenticator: Buffer.from(buf.subarray(at, at + AUTHENTICATOR_LENGTH)),
        version: buf[at + AUTHENTICATOR_LENGTH],
        layout: totalLength === Length.CONNECT_RESP_3_0 ? '3.0' : '2.0',
      };
    }
    case CommandId.SUBMIT_RESP:
    case CommandId.DELIVER_RESP: {
      const result = readRespResult(buf, body, totalLength);
      if (result < 0) throw bad(commandId === CommandId.SUBMIT_RESP ? 'SUBMIT_RESP' : 'DELIVER_RESP');
      return {
        ...header,
        command: commandId === CommandId.SUBMIT_RESP ? 'SUBMIT_RESP' : 'DELIVER_RESP',
        msgId: Buffer.from(buf.subarray(body, body + 8)),
        result,
        layout: totalLength === Length.RESP_3_0 ? '3.0' : '2.0',
      };
    }
    case CommandId.SUBMIT:
      return decodeSubmit(buf, header, body, version);
    case CommandId.DELIVER:
      return decodeDeliver(buf, header, body, version);
    case CommandId.TERMINATE:
      return { ...header, command: 'TERMINATE' };
    case CommandId.TERMINATE_RESP:
      return { ...header, command: 'TERMINATE_RESP' };
    case CommandId.ACTIVE_TEST:
      return { ...header, command: 'ACTIVE_TEST' };
    case CommandId.ACTIVE_TEST_RESP:
      return { ...header, command: 'ACTIVE_TEST_RESP' };
    default:
      return { ...header, command: 'OTHER' };
  }
}

function cString(buf: Buffer, start: number, width: number): string {
  let end = start + width;
  while (end > start && buf[end - 1] === 0) end--;
  return buf.toString('latin1', start, end);
}

function decodeSubmit(buf: Buffer, header: FrameHeader, body: number, version: CmppVersion): CmppFrame {
  const layout = version === '3.0' ? SUBMIT_3_0 : SUBMIT_2_0;
  const { totalLength } = header;
  if (totalLength < layout.fixed) throw new CmppDecodeError(`SUBMIT ${version} shorter than ${layout.fixed}`);
  const n = buf[body + layout.recipientsAt];
  let at = body + layout.recipientsAt + 1;
  const recipientsEnd = at + n * layout.terminalWidth;
  const msgLengthAt = recipientsEnd + (version === '3.0' ? 1 : 0); // 3.0 adds Dest_terminal_type
  const frameEnd = body - HEADER_LENGTH + totalLength;
  if (n === 0 || msgLengthAt >= frameEnd)
    throw new CmppDecodeError(`SUBMIT ${version} with ${n} recipients does not fit ${totalLength} bytes`);
  const msgLength = buf[msgLengthAt];
  if (layout.fixed + n * layout.terminalWidth + msgLength !== totalLength)
    throw new CmppDecodeError(`SUBMIT ${version} lengths disagree with Total_Length ${totalLength}`);
  const recipients: string[] = [];
  for (; at < recipientsEnd; at += layout.terminalWidth)
    recipients.push(cString(buf, at, layout.terminalWidth));
  return {
    ...header,
    command: 'SUBMIT',
    layout: version,
    msgId: Buffer.from(buf.subarray(body, body + 8)),
    registeredDelivery: buf[body + 10],
    recipients,
    content: Buffer.from(buf.subarray(msgLengthAt + 1, msgLengthAt + 1 + msgLength)),
  };
}

function decodeDeliver(buf: Buffer, header: FrameHeader, body: number, hint: CmppVersion): CmppFrame {
  const version = deliverVersion(buf, body, header.totalLength, hint);
  if (version === null)
    throw new CmppDecodeError(`DELIVER with Total_Length ${header.totalLength} fits no layout`);
  const layout = version === '3.0' ? DELIVER_3_0 : DELIVER_2_0;
  const msgLength = buf[body + layout.msgLengthAt];
  const content = Buffer.from(
    buf.subarray(body + layout.msgLengthAt + 1, body + layout.msgLengthAt + 1 + msgLength),
  );
  const registeredDelivery = buf[body + layout.registeredAt];
  const frame: CmppFrame = {
    ...header,
    command: 'DELIVER',
    layout: version,
    msgId: Buffer.from(buf.subarray(body, body + 8)),
    registeredDelivery,
    content,
  };
  if (registeredDelivery === 1 && content.length >= 15) {
    frame.reportMsgId = Buffer.from(content.subarray(0, 8));
    frame.reportStat = cString(content, 8, 7);
  }
  return frame;
}

// ---- Encoders ----

function frame(totalLength: number, commandId: number, sequenceId: number): Buffer {
  const out = Buffer.alloc(totalLength);
  out.writeUInt32BE(totalLength, 0);
  out.writeUInt32BE(commandId >>> 0, 4);
  out.writeUInt32BE(sequenceId >>> 0, 8);
  return out;
}

/** Writes `text` zero-padded into a fixed-width field; longer text is refused, never silently cut. */
function putFixed(out: Buffer, at: number, width: number, text: string | Buffer): void {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'latin1') : text;
  if (bytes.length > width) throw new RangeError(`field of ${bytes.length} bytes exceeds its ${width} bytes`);
  bytes.copy(out, at);
}

export interface ConnectOptions {
  sequenceId: number;
  account: string;
  secret: string;
  /** MMDDHHMMSS as an integer (cmppTimestamp()). */
  timestamp: number;
  version: CmppVersion;
}

export function encodeConnect(o: ConnectOptions): Buffer {
  const out = frame(Length.CONNECT, CommandId.CONNECT, o.sequenceId);
  accountBytes(o.account).copy(out, HEADER_LENGTH);
  authenticatorSource(o.account, o.secret, o.timestamp).copy(out, HEADER_LENGTH + CONNECT_AUTH_AT);
  out[HEADER_LENGTH + CONNECT_VERSION_AT] = versionByte(o.version);
  out.writeUInt32BE(o.timestamp >>> 0, HEADER_LENGTH + CONNECT_TIMESTAMP_AT);
  return out;
}

export interface ConnectRespOptions {
  sequenceId: number;
  status: number;
  /** 16 bytes; omitted = all zeros (a refusal by a proxy that doesn't know the secret). */
  authenticator?: Uint8Array;
  /** The layout (Status width) and the Version byte written. */
  version: CmppVersion;
}

export function encodeConnectResp(o: ConnectRespOptions): Buffer {
  const v3 = o.version === '3.0';
  const out = frame(
    v3 ? Length.CONNECT_RESP_3_0 : Length.CONNECT_RESP_2_0,
    CommandId.CONNECT_RESP,
    o.sequenceId,
  );
  let at = HEADER_LENGTH;
  if (v3) out.writeUInt32BE(o.status >>> 0, at);
  else out[at] = o.status & 0xff;
  at += v3 ? 4 : 1;
  if (o.authenticator) Buffer.from(o.authenticator).copy(out, at, 0, AUTHENTICATOR_LENGTH);
  out[at + AUTHENTICATOR_LENGTH] = versionByte(o.version);
  return out;
}

export const encodeTerminate = (sequenceId: number): Buffer =>
  frame(Length.TERMINATE, CommandId.TERMINATE, sequenceId);
export const encodeTerminateResp = (sequenceId: number): Buffer =>
  frame(Length.TERMINATE_RESP, CommandId.TERMINATE_RESP, sequenceId);
export const encodeActiveTest = (sequenceId: number): Buffer =>
  frame(Length.ACTIVE_TEST, CommandId.ACTIVE_TEST, sequenceId);
/** ACTIVE_TEST_RESP: one reserved byte, zero. */
export const encodeActiveTestResp = (sequenceId: number): Buffer =>
  frame(Length.ACTIVE_TEST_RESP, CommandId.ACTIVE_TEST_RESP, sequenceId);

export interface RespOptions {
  sequenceId: number;
  /** 8 bytes. */
  msgId: Uint8Array;
  result: number;
  version: CmppVersion;
}

function encodeResp(commandId: number, o: RespOptions): Buffer {
  const v3 = o.version === '3.0';
  const out = frame(v3 ? Length.RESP_3_0 : Length.RESP_2_0, commandId, o.sequenceId);
  Buffer.from(o.msgId).copy(out, HEADER_LENGTH, 0, 8);
  if (v3) out.writeUInt32BE(o.result >>> 0, HEADER_LENGTH + 8);
  else out[HEADER_LENGTH + 8] = o.result & 0xff;
  return out;
}
export const encodeSubmitResp = (o: RespOptions): Buffer => encodeResp(CommandId.SUBMIT_RESP, o);
export const encodeDeliverResp = (o: RespOptions): Buffer => encodeResp(CommandId.DELIVER_RESP, o);

export interface SubmitOptions {
  sequenceId: number;
  version: CmppVersion;
  /** Source_Addr of the login: Msg_src. */
  account: string;
  serviceId?: string;
  /** Src_Id: the SP's service number. */
  srcId: string;
  recipients: string[];
  /** At most 160 bytes. */
  content: Buffer;
  /** 1 asks the gateway for a status report (a DELIVER with Registered_Delivery 1). */
  registeredDelivery?: number;
  /** Msg_Fmt: 0 ASCII, 8 UCS2, 15 GB. */
  msgFmt?: number;
}

export function encodeSubmit(o: SubmitOptions): Buffer {
  const v3 = o.version === '3.0';
  const layout = v3 ? SUBMIT_3_0 : SUBMIT_2_0;
  const n = o.recipients.length;
  if (n < 1 || n > 99) throw new RangeError(`SUBMIT needs 1..99 recipients, got ${n}`);
  if (o.content.length > 160)
    throw new RangeError(`SUBMIT content is ${o.content.length} bytes, at most 160`);
  const total = layout.fixed + n * layout.terminalWidth + o.content.length;
  const out = frame(total, CommandId.SUBMIT, o.sequenceId);
  let at = HEADER_LENGTH + 8; // Msg_Id: zero, the gateway assigns it
  out[at++] = 1; // Pk_total
  out[at++] = 1; // Pk_number
  out[at++] = o.registeredDelivery ?? 0;
  out[at++] = 0; // Msg_level
  putFixed(out, at, 10, o.serviceId ?? 'TETHER');
  at += 10;
  out[at++] = 2; // Fee_UserType: 2 = neither side pays (Fee_terminal_Id unused)
  at += v3 ? 32 + 1 : 21; // Fee_terminal_Id (+ Fee_terminal_type in 3.0)
  at += 2; // TP_pId, TP_udhi
  out[at++] = o.msgFmt ?? 0;
  putFixed(out, at, 6, o.account);
  at += 6;
  putFixed(out, at, 2, '01'); // FeeType: free
  at += 2;
  putFixed(out, at, 6, '000000'); // FeeCode
  at += 6;
  at += 17 + 17; // ValId_Time, At_Time: empty = gateway defaults
  putFixed(out, at, 21, o.srcId);
  at += 21;
  if (at !== HEADER_LENGTH + layout.recipientsAt) throw new Error('SUBMIT layout drifted'); // guards the offsets
  out[at++] = n;
  for (const r of o.recipients) {
    putFixed(out, at, layout.terminalWidth, r);
    at += layout.terminalWidth;
  }
  if (v3) out[at++] = 0; // Dest_terminal_type: real number
  out[at++] = o.content.length;
  o.content.copy(out, at);
  return out;
}

export interface DeliverOptions {
  sequenceId: number;
  version: CmppVersion;
  msgId: Uint8Array;
  /** Dest_Id: the SP's service number the message was sent to. */
  destId: string;
  serviceId?: string;
  srcTerminalId: string;
  registeredDelivery: number;
  content: Buffer;
  msgFmt?: number;
}

export function encodeDeliver(o: DeliverOptions): Buffer {
  const v3 = o.version === '3.0';
  const layout = v3 ? DELIVER_3_0 : DELIVER_2_0;
  if (o.content.length > 255) throw new RangeError('DELIVER content longer than 255 bytes');
  const out = frame(layout.fixed + o.content.length, CommandId.DELIVER, o.sequenceId);
  let at = HEADER_LENGTH;
  Buffer.from(o.msgId).copy(out, at, 0, 8);
  at += 8;
  putFixed(out, at, 21, o.destId);
  at += 21;
  putFixed(out, at, 10, o.serviceId ?? 'TETHER');
  at += 10;
  at += 2; // TP_pid, TP_udhi
  out[at++] = o.msgFmt ?? 0;
  putFixed(out, at, layout.srcTerminal, o.srcTerminalId);
  at += layout.srcTerminal;
  if (v3) out[at++] = 0; // Src_terminal_type
  if (at !== HEADER_LENGTH + layout.registeredAt) throw new Error('DELIVER layout drifted');
  out[at++] = o.registeredDelivery;
  out[at++] = o.content.length;
  o.content.copy(out, at);
  return out;
}

export interface StatusReportOptions {
  version: CmppVersion;
  /** Msg_Id of the SUBMIT this reports on. */
  msgId: Uint8Array;
  /** 7 characters, e.g. DELIVRD. */
  stat: string;
  /** YYMMDDHHMM. */
  submitTime: string;
  doneTime: string;
  destTerminalId: string;
  smscSequence: number;
}

/** Msg_Content of a status report DELIVER: 71 bytes in 3.0, 60 in 2.0. */
export function encodeStatusReport(o: StatusReportOptions): Buffer {
  const terminal = o.version === '3.0' ? 32 : 21;
  const out = Buffer.alloc(8 + 7 + 10 + 10 + terminal + 4);
  Buffer.from(o.msgId).copy(out, 0, 0, 8);
  putFixed(out, 8, 7, o.stat);
  putFixed(out, 15, 10, o.submitTime);
  putFixed(out, 25, 10, o.doneTime);
  putFixed(out, 35, terminal, o.destTerminalId);
  out.writeUInt32BE(o.smscSequence >>> 0, 35 + terminal);
  return out;
}
