// Allow-list matching for frontends. IPv4 and IPv6 CIDRs; a client reaching a dual-stack ('::')
// listener over IPv4 shows up as '::ffff:a.b.c.d' and is matched as the IPv4 address it is.
import { BlockList, isIP } from 'node:net';

/** '::ffff:10.0.0.1' → '10.0.0.1'; anything else unchanged. */
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
    // A mapped address was written with an IPv6 prefix length.
    if (mapped) {
      if (prefix < 96) return undefined;
      prefix -= 96;
    }
  }
  return { address, prefix, family };
}

/** Compiled allow-list: `allows(ip)` is one BlockList lookup. */
export class AllowList {
  private readonly list = new BlockList();

  constructor(cidrs: readonly string[]) {
    for (const text of cidrs) {
      const cidr = parseCidr(text);
      if (!cidr) throw new Error(`invalid CIDR "${text}"`);
      this.list.addSubnet(cidr.address, cidr.prefix, cidr.family === 4 ? 'ipv4' : 'ipv6');
    }
  }

  allows(address: string): boolean {
    const ip = unwrapMappedIPv4(address);
    const family = isIP(ip);
    if (family === 0) return false;
    return this.list.check(ip, family === 4 ? 'ipv4' : 'ipv6');
  }
}
