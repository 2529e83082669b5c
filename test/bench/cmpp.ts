// The slice of CMPP the benchmark speaks (docs/config-model.md, "CMPP framing"): 12-byte header frames,
// SUBMIT answered by a CMPP 3.0 SUBMIT_RESP, ACTIVE_TEST by ACTIVE_TEST_RESP.

export const HEADER_LENGTH = 12;
export const MAX_FRAME_LENGTH = 4096;

export const CONNECT = 0x00000001;
export const CONNECT_RESP = 0x80000001;
export const TERMINATE = 0x00000002;
export const TERMINATE_RESP = 0x80000002;
export const SUBMIT = 0x00000004;
export const SUBMIT_RESP = 0x80000004;
export const ACTIVE_TEST = 0x00000008;
export const ACTIVE_TEST_RESP = 0x80000008;

/** "~160-byte frames": a SUBMIT sized like a short SMS; the backend does not read the body. */
export const SUBMIT_LENGTH = 160;
/** CMPP 3.0: Msg_Id (8) + Result (4). */
export const SUBMIT_RESP_LENGTH = 24;
export const ACTIVE_TEST_LENGTH = 12;
/** Reserved byte. */
export const ACTIVE_TEST_RESP_LENGTH = 13;
/** CMPP 3.0: Status (4) + AuthenticatorISMG (16) + Version (1). */
export const CONNECT_RESP_LENGTH = 33;
/** The largest answer the backend writes for one frame. */
export const MAX_RESPONSE_LENGTH = CONNECT_RESP_LENGTH;

/** A SUBMIT with sequence id 0; copy it and patch bytes 8..11 per message. */
export function submitTemplate(): Buffer {
  const frame = Buffer.alloc(SUBMIT_LENGTH);
  frame.writeUInt32BE(SUBMIT_LENGTH, 0);
  frame.writeUInt32BE(SUBMIT, 4);
  // Body: a plausible pattern (service id, source/destination numbers, text) instead of zeros.
  frame.write('BENCH-SVC 10658000 13800138000 hello from the tether benchmark ', HEADER_LENGTH, 'latin1');
  for (let i = 80; i < SUBMIT_LENGTH; i++) frame[i] = 0x20 + (i % 90);
  return frame;
}

export function header(length: number, commandId: number, sequenceId: number): Buffer {
  const frame = Buffer.alloc(length);
  frame.writeUInt32BE(length, 0);
  frame.writeUInt32BE(commandId >>> 0, 4);
  frame.writeUInt32BE(sequenceId >>> 0, 8);
  return frame;
}

export function activeTest(sequenceId: number): Buffer {
  return header(ACTIVE_TEST_LENGTH, ACTIVE_TEST, sequenceId);
}
