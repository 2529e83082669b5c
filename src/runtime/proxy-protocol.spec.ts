import { describe, expect, it } from 'vitest';
import { encodeProxyV1, encodeProxyV2 } from './proxy-protocol.js';

// Expected bytes written out by hand from proxy-protocol.txt (sections 2.1 and 2.2).
const SIG = '0d0a0d0a000d0a515549540a';

describe('PROXY protocol v1', () => {
  it('encodes IPv4 as TCP4', () => {
    const header = encodeProxyV1({ address: '127.0.0.2', port: 51234 }, { address: '127.0.0.1', port: 9999 });
    expect(header.toString('latin1')).toBe('PROXY TCP4 127.0.0.2 127.0.0.1 51234 9999\r\n');
  });

  it('encodes IPv6 as TCP6', () => {
    const header = encodeProxyV1({ address: '2001:db8::1', port: 51234 }, { address: '::1', port: 443 });
    expect(header.toString('latin1')).toBe('PROXY TCP6 2001:db8::1 ::1 51234 443\r\n');
  });

  it('sends IPv4-mapped IPv6 addresses as TCP4', () => {
    const header = encodeProxyV1(
      { address: '::ffff:1.2.3.4', port: 1024 },
      { address: '::ffff:127.0.0.1', port: 9999 },
    );
    expect(header.toString('latin1')).toBe('PROXY TCP4 1.2.3.4 127.0.0.1 1024 9999\r\n');
    const mixedForm = encodeProxyV1(
      { address: '::ffff:10.0.0.7', port: 1 },
      { address: '10.0.0.8', port: 2 },
    );
    expect(mixedForm.toString('latin1')).toBe('PROXY TCP4 10.0.0.7 10.0.0.8 1 2\r\n');
  });

  it('falls back to UNKNOWN for mixed families or unparseable addresses', () => {
    expect(
      encodeProxyV1({ address: '10.0.0.1', port: 1000 }, { address: '2001:db8::2', port: 443 }).toString(
        'latin1',
      ),
    ).toBe('PROXY UNKNOWN\r\n');
    expect(
      encodeProxyV1({ address: 'localhost', port: 1 }, { address: '::1', port: 2 }).toString('latin1'),
    ).toBe('PROXY UNKNOWN\r\n');
  });

  it('stays within the 107-byte limit for the longest addresses', () => {
    const long = 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff';
    expect(encodeProxyV1({ address: long, port: 65535 }, { address: long, port: 65535 }).length).toBe(104);
  });
});

describe('PROXY protocol v2', () => {
  it('encodes IPv4 127.0.0.2:51234 -> 127.0.0.1:9999 byte for byte', () => {
    const header = encodeProxyV2({ address: '127.0.0.2', port: 51234 }, { address: '127.0.0.1', port: 9999 });
    expect(header.toString('hex')).toBe(
      SIG + '21' + '11' + '000c' + '7f000002' + '7f000001' + 'c822' + '270f',
    );
    expect(header.length).toBe(28);
  });

  it('encodes IPv6 2001:db8::1:51234 -> 2001:db8::2:443 byte for byte', () => {
    const header = encodeProxyV2(
      { address: '2001:db8::1', port: 51234 },
      { address: '2001:db8::2', port: 443 },
    );
    expect(header.toString('hex')).toBe(
      SIG +
        '21' +
        '21' +
        '0024' +
        '20010db8000000000000000000000001' +
        '20010db8000000000000000000000002' +
        'c822' +
        '01bb',
    );
    expect(header.length).toBe(52);
  });

  it('expands full, compressed and dotted-tail IPv6 forms', () => {
    const header = encodeProxyV2(
      { address: 'fe80:0:0:0:0:0:0:abcd', port: 1 },
      { address: '64:ff9b::192.0.2.33', port: 2 },
    );
    expect(header.subarray(16, 52).toString('hex')).toBe(
      'fe80000000000000000000000000abcd' + '0064ff9b0000000000000000c0000221' + '0001' + '0002',
    );
  });

  it('sends IPv4-mapped IPv6 addresses as TCP4', () => {
    const header = encodeProxyV2(
      { address: '::ffff:1.2.3.4', port: 80 },
      { address: '::ffff:5.6.7.8', port: 8080 },
    );
    expect(header.toString('hex')).toBe(SIG + '2111000c' + '01020304' + '05060708' + '0050' + '1f90');
  });

  it('sends mixed families as TCP6 with the IPv4 side IPv4-mapped', () => {
    const header = encodeProxyV2({ address: '10.0.0.1', port: 1000 }, { address: '::1', port: 443 });
    expect(header.toString('hex')).toBe(
      SIG +
        '21210024' +
        '00000000000000000000ffff0a000001' +
        '00000000000000000000000000000001' +
        '03e8' +
        '01bb',
    );
  });

  it('sends LOCAL with AF_UNSPEC and no address block for unparseable addresses', () => {
    const header = encodeProxyV2({ address: 'localhost', port: 1 }, { address: '127.0.0.1', port: 2 });
    expect(header.toString('hex')).toBe(SIG + '20000000');
  });
});
