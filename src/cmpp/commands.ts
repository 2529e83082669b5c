// CMPP 2.0/3.0 command ids, lengths and the meanings of status and result codes (docs/cmpp.md).
// Plain data: the runtime, the health probe, the simulators and the tests read it.

export const HEADER_LENGTH = 12;
/** Sane frame bounds: anything outside is not CMPP (docs/cmpp.md, "Framing"). */
export const MIN_FRAME_LENGTH = HEADER_LENGTH;
export const MAX_FRAME_LENGTH = 4096;
/** Bit 31 marks a response; the rest is the request's id. */
export const RESPONSE_BIT = 0x80000000;

export const CommandId = {
  CONNECT: 0x00000001,
  CONNECT_RESP: 0x80000001,
  TERMINATE: 0x00000002,
  TERMINATE_RESP: 0x80000002,
  SUBMIT: 0x00000004,
  SUBMIT_RESP: 0x80000004,
  DELIVER: 0x00000005,
  DELIVER_RESP: 0x80000005,
  QUERY: 0x00000006,
  QUERY_RESP: 0x80000006,
  CANCEL: 0x00000007,
  CANCEL_RESP: 0x80000007,
  ACTIVE_TEST: 0x00000008,
  ACTIVE_TEST_RESP: 0x80000008,
  FWD: 0x00000009,
  FWD_RESP: 0x80000009,
} as const;
export type CommandName = keyof typeof CommandId;

const NAMES = new Map<number, CommandName>(
  (Object.entries(CommandId) as [CommandName, number][]).map(([name, id]) => [id, name]),
);

/** `SUBMIT`, `CONNECT_RESP`, ...; route commands and unknown ids as `0x00000010`. */
export function commandName(commandId: number): string {
  return NAMES.get(commandId >>> 0) ?? `0x${(commandId >>> 0).toString(16).padStart(8, '0')}`;
}

export function isResponse(commandId: number): boolean {
  return (commandId & RESPONSE_BIT) !== 0;
}

/** The response id for a request id (and the request id for a response, with `& 0x7fffffff`). */
export function responseOf(requestId: number): number {
  return (requestId | RESPONSE_BIT) >>> 0;
}

/** Version byte: high nibble major, low nibble minor. */
export const VERSION_2_0 = 0x20;
export const VERSION_3_0 = 0x30;
export type CmppVersion = '2.0' | '3.0';
export function versionByte(version: CmppVersion): number {
  return version === '2.0' ? VERSION_2_0 : VERSION_3_0;
}
/** 3.0 for any major version 3 and above, else 2.0: the layouts differ only between those two. */
export function versionOfByte(byte: number): CmppVersion {
  return byte >> 4 >= 3 ? '3.0' : '2.0';
}
export function formatVersionByte(byte: number): string {
  return `${byte >> 4}.${byte & 0x0f}`;
}

/** Fixed lengths (header included). */
export const Length = {
  CONNECT: 39,
  CONNECT_RESP_2_0: 30,
  CONNECT_RESP_3_0: 33,
  TERMINATE: 12,
  TERMINATE_RESP: 12,
  ACTIVE_TEST: 12,
  ACTIVE_TEST_RESP: 13,
  /** SUBMIT_RESP and DELIVER_RESP: Msg_Id 8 + Result 1 (2.0) or 4 (3.0). */
  RESP_2_0: 21,
  RESP_3_0: 24,
} as const;

/** CONNECT_RESP Status meanings (5+ is "other"; SMSGate and our simulator use 5 for a full account). */
export const CONNECT_STATUS: Readonly<Record<number, string>> = {
  0: 'ok',
  1: 'bad message structure',
  2: 'illegal source address (account or IP not allowed)',
  3: 'authentication failed',
  4: 'version too high',
  5: 'too many connections for this account',
};
export function connectStatusMeaning(status: number): string {
  return CONNECT_STATUS[status] ?? 'other error';
}

/** SUBMIT_RESP Result meanings; 8 is the gateway's flow control. */
export const SUBMIT_RESULT: Readonly<Record<number, string>> = {
  0: 'ok',
  1: 'bad message structure',
  2: 'bad command',
  3: 'duplicate sequence id',
  4: 'bad message length',
  5: 'bad fee code',
  6: 'message too long',
  7: 'bad service code',
  8: 'flow control (throttled)',
  9: 'field error',
  10: 'field error',
  11: 'field error',
  12: 'field error',
  13: 'field error',
};
export const RESULT_THROTTLED = 8;
export function submitResultMeaning(result: number): string {
  return SUBMIT_RESULT[result] ?? 'other error';
}
