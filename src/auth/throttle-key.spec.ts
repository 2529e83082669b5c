import { describe, expect, it } from 'vitest';
import { throttleKeyOf } from './throttle-key.js';

describe('throttleKeyOf', () => {
  it('counts every address of an IPv6 /64 as one client, however it is written', () => {
    const key = throttleKeyOf('2001:db8:1:2::1');
    expect(key).toBe('2001:db8:1:2::/64');
    for (const address of [
      '2001:db8:1:2:ffff:ffff:ffff:fffe',
      '2001:0DB8:0001:0002:0:0:0:9',
      '2001:db8:1:2:a::b',
      '2001:db8:1:2::1%eth0',
    ]) {
      expect(throttleKeyOf(address), address).toBe(key);
    }
    expect(throttleKeyOf('2001:db8:1:3::1')).toBe('2001:db8:1:3::/64');
    expect(throttleKeyOf('::1')).toBe('0:0:0:0::/64');
    expect(throttleKeyOf('2001:db8::')).toBe('2001:db8:0:0::/64');
    expect(throttleKeyOf('fe80::1')).toBe('fe80:0:0:0::/64');
  });

  it('keeps IPv4 addresses (and IPv6 ones carrying an IPv4 address) apart', () => {
    expect(throttleKeyOf('127.0.0.7')).toBe('127.0.0.7');
    expect(throttleKeyOf('127.0.0.8')).toBe('127.0.0.8');
    expect(throttleKeyOf('64:ff9b::192.0.2.1')).toBe('64:ff9b::192.0.2.1');
    expect(throttleKeyOf(undefined)).toBe('unknown');
  });
});
