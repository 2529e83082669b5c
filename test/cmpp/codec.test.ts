// The test vectors of docs/cmpp.md and round trips of every encoder through decodeFrame.
import { describe, expect, it } from 'vitest';
import { authenticatorIsmg, authenticatorSource, cmppTimestamp, timestampText } from '../../src/cmpp/auth.js';
import {
  CmppDecodeError,
  decodeFrame,
  encodeActiveTest,
  encodeActiveTestResp,
  encodeConnect,
  encodeConnectResp,
  encodeDeliver,
  encodeDeliverResp,
  encodeStatusReport,
  encodeSubmit,
  encodeSubmitResp,
  encodeTerminate,
  encodeTerminateResp,
  readConnectAccount,
  readConnectRespStatus,
  readDeliverRegistered,
  readRespResult,
  readSubmitRecipients,
} from '../../src/cmpp/codec.js';
import {
  CommandId,
  commandName,
  connectStatusMeaning,
  responseOf,
  submitResultMeaning,
} from '../../src/cmpp/commands.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('authenticators (docs/cmpp.md test vectors)', () => {
  it('AuthenticatorSource for 900001 / 888888 / 1126142800', () => {
    expect(hex(authenticatorSource('900001', '888888', 1126142800))).toBe('d7714cf3335c4369368b91396d0b11a8');
  });

  it('pads the timestamp to ten digits (0101000000)', () => {
    expect(timestampText(101000000)).toBe('0101000000');
    expect(hex(authenticatorSource('900001', '888888', 101000000))).toBe('d940cd9288a4fb70efd0ca84a10e8bf5');
  });

  it('AuthenticatorISMG for status 0 in 2.0 (1-byte status) and 3.0 (4-byte status)', () => {
    const source = authenticatorSource('900001', '888888', 1126142800);
    expect(hex(authenticatorIsmg(0, source, '888888', '2.0'))).toBe('a39a890506cadaaf05515548a6f52a61');
    expect(hex(authenticatorIsmg(0, source, '888888', '3.0'))).toBe('b1e6aa26dc514cadc4c332935d64f52a');
  });

  it('builds MMDDHHMMSS from local time', () => {
    expect(cmppTimestamp(new Date(2026, 10, 26, 14, 28, 0))).toBe(1126142800);
    expect(cmppTimestamp(new Date(2026, 0, 1, 0, 0, 0))).toBe(101000000);
  });
});

describe('encoders', () => {
  it('CONNECT is byte for byte the documented frame', () => {
    const frame = encodeConnect({
      sequenceId: 1,
      account: '900001',
      secret: '888888',
      timestamp: 1126142800,
      version: '3.0',
    });
    expect(hex(frame)).toBe(
      '00000027' +
        '00000001' +
        '00000001' +
        '393030303031' +
        'd7714cf3335c4369368b91396d0b11a8' +
        '30' +
        '431f9350',
    );
    const decoded = decodeFrame(frame);
    expect(decoded).toMatchObject({
      command: 'CONNECT',
      account: '900001',
      version: 0x30,
      timestamp: 1126142800,
    });
    expect(readConnectAccount(frame, 12, frame.length)).toBe('900001');
  });

  it('CONNECT of a short account zero-pads Source_Addr; a 7-byte account is refused', () => {
    const frame = encodeConnect({
      sequenceId: 0,
      account: '9001',
      secret: 's',
      timestamp: 1,
      version: '2.0',
    });
    expect(hex(frame.subarray(12, 18))).toBe('393030310000');
    expect(frame[12 + 22]).toBe(0x20);
    expect(() =>
      encodeConnect({ sequenceId: 0, account: '9000001', secret: 's', timestamp: 1, version: '3.0' }),
    ).toThrow(RangeError);
  });

  it('CONNECT_RESP: length tells the layout; a refusal carries a zero authenticator', () => {
    const v2 = encodeConnectResp({ sequenceId: 7, status: 5, version: '2.0' });
    const v3 = encodeConnectResp({ sequenceId: 7, status: 3, version: '3.0' });
    expect([v2.length, v3.length]).toEqual([30, 33]);
    expect(hex(v3)).toBe('00000021' + '80000001' + '00000007' + '00000003' + '00'.repeat(16) + '30');
    expect(decodeFrame(v2)).toMatchObject({
      command: 'CONNECT_RESP',
      status: 5,
      layout: '2.0',
      version: 0x20,
    });
    expect(readConnectRespStatus(v2, 12, 30)).toBe(5);
    expect(readConnectRespStatus(v3, 12, 33)).toBe(3);
    expect(readConnectRespStatus(v3, 12, 34)).toBe(-1);
    const auth = Buffer.alloc(16, 0xab);
    expect(
      hex(
        (
          decodeFrame(
            encodeConnectResp({ sequenceId: 1, status: 0, version: '3.0', authenticator: auth }),
          ) as {
            authenticator: Buffer;
          }
        ).authenticator,
      ),
    ).toBe(hex(auth));
  });

  it('TERMINATE, TERMINATE_RESP, ACTIVE_TEST are bare headers; ACTIVE_TEST_RESP has one reserved byte', () => {
    expect(hex(encodeTerminate(9))).toBe('0000000c0000000200000009');
    expect(hex(encodeTerminateResp(9))).toBe('0000000c8000000200000009');
    expect(hex(encodeActiveTest(0))).toBe('0000000c0000000800000000');
    expect(hex(encodeActiveTestResp(0))).toBe('0000000d800000080000000000');
    expect(decodeFrame(encodeTerminate(3))).toMatchObject({
      command: 'TERMINATE',
      sequenceId: 3,
      totalLength: 12,
    });
  });

  it('SUBMIT_RESP / DELIVER_RESP decode by length (21 = 2.0, 24 = 3.0)', () => {
    const msgId = Buffer.from('0102030405060708', 'hex');
    const r2 = encodeSubmitResp({ sequenceId: 4, msgId, result: 8, version: '2.0' });
    const r3 = encodeDeliverResp({ sequenceId: 4, msgId, result: 0x01020304, version: '3.0' });
    expect([r2.length, r3.length]).toEqual([21, 24]);
    expect(readRespResult(r2, 12, 21)).toBe(8);
    expect(readRespResult(r3, 12, 24)).toBe(0x01020304);
    expect(decodeFrame(r2)).toMatchObject({ command: 'SUBMIT_RESP', result: 8, layout: '2.0' });
    expect(hex((decodeFrame(r3) as { msgId: Buffer }).msgId)).toBe('0102030405060708');
  });

  for (const version of ['2.0', '3.0'] as const) {
    it(`SUBMIT ${version}: length formula, recipients and content round-trip`, () => {
      const content = Buffer.from('hello from tether');
      const recipients = ['13800138000', '13900139000'];
      const frame = encodeSubmit({
        sequenceId: 11,
        version,
        account: '901234',
        srcId: '10658000',
        recipients,
        content,
        registeredDelivery: 1,
      });
      const fixed = version === '3.0' ? 163 + 32 * 2 : 138 + 21 * 2;
      expect(frame.length).toBe(fixed + content.length);
      expect(readSubmitRecipients(frame, 12, frame.length, version)).toBe(2);
      const decoded = decodeFrame(frame, 0, version);
      expect(decoded).toMatchObject({
        command: 'SUBMIT',
        recipients,
        registeredDelivery: 1,
        layout: version,
      });
      expect((decoded as { content: Buffer }).content.toString()).toBe('hello from tether');
    });

    it(`DELIVER ${version}: length formula, Registered_Delivery and the status report`, () => {
      const msgId = Buffer.from('1112131415161718', 'hex');
      const report = encodeStatusReport({
        version,
        msgId,
        stat: 'DELIVRD',
        submitTime: '2612051430',
        doneTime: '2612051431',
        destTerminalId: '13800138000',
        smscSequence: 5,
      });
      expect(report.length).toBe(version === '3.0' ? 71 : 60);
      const frame = encodeDeliver({
        sequenceId: 2,
        version,
        msgId: Buffer.alloc(8, 1),
        destId: '10658000',
        srcTerminalId: '13800138000',
        registeredDelivery: 1,
        content: report,
      });
      expect(frame.length).toBe((version === '3.0' ? 109 : 85) + report.length);
      // Decoding by length finds the layout even with the other version as the hint.
      const other = version === '3.0' ? '2.0' : '3.0';
      expect(readDeliverRegistered(frame, 12, frame.length, other)).toBe(1);
      const decoded = decodeFrame(frame, 0, other);
      expect(decoded).toMatchObject({
        command: 'DELIVER',
        layout: version,
        registeredDelivery: 1,
        reportStat: 'DELIVRD',
      });
      expect(hex((decoded as { reportMsgId: Buffer }).reportMsgId)).toBe(hex(msgId));
    });
  }

  it('decodeFrame refuses what is not a sane frame', () => {
    const tooLong = Buffer.alloc(16);
    tooLong.writeUInt32BE(4097, 0);
    expect(() => decodeFrame(tooLong)).toThrow(CmppDecodeError);
    const tooShort = Buffer.alloc(12);
    tooShort.writeUInt32BE(11, 0);
    expect(() => decodeFrame(tooShort)).toThrow(CmppDecodeError);
    const badConnect = encodeTerminate(1);
    badConnect.writeUInt32BE(CommandId.CONNECT, 4);
    expect(() => decodeFrame(badConnect)).toThrow(/CONNECT/);
    expect(() =>
      decodeFrame(
        encodeConnect({ sequenceId: 0, account: '1', secret: 's', timestamp: 1, version: '3.0' }).subarray(
          0,
          30,
        ),
      ),
    ).toThrow(/incomplete/);
  });
});

describe('command table', () => {
  it('names commands and meanings', () => {
    expect(commandName(CommandId.SUBMIT_RESP)).toBe('SUBMIT_RESP');
    expect(commandName(0x10)).toBe('0x00000010');
    expect(responseOf(CommandId.CONNECT)).toBe(CommandId.CONNECT_RESP);
    expect(connectStatusMeaning(5)).toMatch(/too many connections/);
    expect(connectStatusMeaning(42)).toBe('other error');
    expect(submitResultMeaning(8)).toMatch(/throttled/);
  });
});
