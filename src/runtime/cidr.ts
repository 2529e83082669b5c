// Allow-list matching for frontends. IPv4 and IPv6 CIDRs; a client reaching a dual-stack ('::')
// listener over IPv4 shows up as '::ffff:a.b.c.d' and is matched as the IPv4 address it is.
import { BlockList, isIP } from 'node:net';
import { parseCidr, unwrapMappedIPv4 } from '../schema/addresses.js';

// Parsing lives with the schema, so the config checks accept exactly what this can compile.
export { parseCidr, unwrapMappedIPv4, type ParsedCidr } from '../schema/addresses.js';

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
