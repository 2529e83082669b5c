import { describe, expect, it } from 'vitest';
import { bindAddressProblem, canonicalIp } from './addresses.js';

describe('canonicalIp', () => {
  it('spells one address one way', () => {
    expect(canonicalIp('0:0::1')).toBe('::1');
    expect(canonicalIp('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(canonicalIp('::ffff:7f00:1')).toBe('127.0.0.1');
    expect(canonicalIp('10.1.2.3')).toBe('10.1.2.3');
    expect(canonicalIp('gw1.example.net')).toBeUndefined();
  });

  it('keeps an IPv6 zone and never throws on one (a bind of fe80::1%lo answered 500)', () => {
    expect(canonicalIp('fe80::1%lo')).toBe('fe80::1%lo');
    expect(canonicalIp('FE80:0::1%eth0')).toBe('fe80::1%eth0');
    expect(() => bindAddressProblem('fe80::1%lo')).not.toThrow();
    expect(bindAddressProblem('fe80::1%lo')).toBeUndefined();
    expect(bindAddressProblem('ff02::1%lo')).toBe('must not be a multicast address');
  });
});
