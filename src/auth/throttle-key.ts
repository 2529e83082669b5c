import { isIPv6 } from 'node:net';
import type { Request } from 'express';
import { sourceAddressOf } from '../common/change-context.js';

// Who a rate limit counts: the peer address, except that an IPv6 address counts as its /64. A single IPv6 customer
// or host is routinely handed a whole /64 (2^64 addresses, RFC 6177), so limits per /128 would let one client rotate
// its source address and never be limited. IPv4 (and IPv4-mapped) addresses count alone.

/** `2001:db8:1:2::/64` for any address in that /64; an IPv4 address as is; `unknown` without one. */
export function throttleKeyOf(address: string | undefined): string {
  if (!address) return 'unknown';
  const bare = address.split('%')[0]; // a zone index (fe80::1%eth0) names the link, not the host
  if (!isIPv6(bare) || bare.includes('.')) return address; // IPv4, or IPv6 with an IPv4 tail (NAT64): one host each
  const [head, tail] = bare.toLowerCase().split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups =
    tail === undefined
      ? left
      : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  const prefix = groups.slice(0, 4).map((group) => parseInt(group, 16).toString(16));
  return `${prefix.join(':')}::/64`;
}

/** The throttle key of a request's peer (see throttleKeyOf). */
export function throttleKeyOfRequest(request: Request): string {
  return throttleKeyOf(sourceAddressOf(request));
}
