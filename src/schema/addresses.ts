// Address formats of the config: bind addresses, server hosts and allow-list CIDRs. The runtime's
// allow-lists (runtime/cidr.ts) parse with parseCidr, so what the checks accept is what it can do.
import { isIP } from 'node:net';

/** '::ffff:10.0.0.1' → '10.0.0.1'; anything else unchanged. On the hot path: no allocation unless mapped. */
export function unwrapMappedIPv4(address: string): string {
  if (
    address.length > 7 &&
    address.charCodeAt(0) === 58 /* : */ &&
    /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(address)
  ) {
    return address.slice(7);
  }
  return address;
}

export interface ParsedCidr {
  address: string;
  prefix: number;
  family: 4 | 6;
}

/** Parses 'a.b.c.d/n', 'x::y/n' or a bare address (a host route). Returns undefined when malformed. */
export function parseCidr(text: string): ParsedCidr | undefined {
  const slash = text.indexOf('/');
  const rawAddress = slash === -1 ? text : text.slice(0, slash);
  const address = unwrapMappedIPv4(rawAddress);
  const family = isIP(address);
  if (family !== 4 && family !== 6) return undefined;
  const mapped = rawAddress !== address;
  const max = family === 4 && !mapped ? 32 : 128;
  let prefix = family === 4 ? 32 : 128;
  if (slash !== -1) {
    const p = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p)) return undefined;
    prefix = Number(p);
    if (prefix > max) return undefined;
    // A mapped address was written with an IPv6 prefix length: /104 of ::ffff:10.0.0.0 is 10.0.0.0/8.
    if (mapped) {
      if (prefix < 96) return undefined;
      prefix -= 96;
    }
  }
  return { address, prefix, family };
}

const HOST_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/**
 * A DNS host name as HAProxy users write them (`gw1.example.net`). The last label may not look like
 * a number (`1.2.3`, `0x7f000001`): the resolver would read those as IPv4 addresses.
 */
export function isHostName(value: string): boolean {
  if (value.length === 0 || value.length > 253) return false;
  const labels = value.split('.');
  if (!labels.every((label) => HOST_LABEL.test(label))) return false;
  return !/^(?:\d+|0x[0-9a-f]*)$/i.test(labels[labels.length - 1]);
}

/** A server address: an IP literal or a host name (resolved by the runtime when applied). */
export function isHost(value: string): boolean {
  return isIP(value) !== 0 || isHostName(value);
}

/**
 * The address a bind really uses: IPv4-mapped IPv6 as the IPv4 address it is, IPv6 in canonical
 * form (`0:0::1` → `::1`), so two spellings of one address compare equal. undefined if not an IP.
 */
export function canonicalIp(address: string): string | undefined {
  const unwrapped = unwrapMappedIPv4(address);
  const family = isIP(unwrapped);
  if (family === 4) return unwrapped;
  if (family !== 6) return undefined;
  // A zone (`fe80::1%eth0`) names an interface, not part of the address: kept as written.
  const [bare, zone] = unwrapped.split('%', 2);
  let host: string;
  try {
    host = new URL(`http://[${bare}]/`).hostname;
  } catch {
    return undefined;
  }
  const canonical = host.slice(1, -1) + (zone !== undefined ? `%${zone}` : '');
  // '::ffff:7f00:1' is 127.0.0.1 in hex groups.
  const hexMapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (hexMapped) {
    const [hi, lo] = [parseInt(hexMapped[1], 16), parseInt(hexMapped[2], 16)];
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return canonical;
}

/** Why a bind address can't be listened on, or undefined when it can. */
export function bindAddressProblem(address: string): string | undefined {
  const ip = canonicalIp(address);
  if (ip === undefined) return 'must be an IP address, 0.0.0.0 or ::';
  return manyHostsProblem(ip);
}

/**
 * Why a canonical IP reaches many hosts at once (broadcast, multicast), or undefined. Neither can be listened on,
 * and a syslog target there would spread the session logs (client addresses) over the whole segment.
 */
export function manyHostsProblem(ip: string): string | undefined {
  if (ip === '255.255.255.255') return 'must not be the broadcast address';
  if (isIP(ip) === 4 ? Number(ip.split('.')[0]) >> 4 === 14 : /^ff/i.test(ip)) {
    return 'must not be a multicast address';
  }
  return undefined;
}
