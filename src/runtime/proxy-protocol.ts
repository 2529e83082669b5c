// PROXY protocol headers sent first to a server when `sendProxy` asks for them, so the server sees
// the real client address (https://www.haproxy.org/download/2.6/doc/proxy-protocol.txt).
import net from 'node:net';

export interface Endpoint {
  address: string;
  port: number;
}

/** Version 1, text: "PROXY TCP4|TCP6 <src> <dst> <sport> <dport>\r\n". */
export function encodeProxyV1(src: Endpoint, dst: Endpoint): Buffer {
  const from = parseAddress(src.address);
  const to = parseAddress(dst.address);
  if (!from || !to || from.family !== to.family || !validPort(src.port) || !validPort(dst.port)) {
    // The spec's form for anything it can't carry (mixed families included): receivers use the real endpoints.
    return Buffer.from('PROXY UNKNOWN\r\n', 'latin1');
  }
  const protocol = from.family === 4 ? 'TCP4' : 'TCP6';
  return Buffer.from(`PROXY ${protocol} ${from.text} ${to.text} ${src.port} ${dst.port}\r\n`, 'latin1');
}

const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V2_PROXY = 0x21; // version 2, command PROXY
const V2_LOCAL = 0x20; // version 2, command LOCAL: "use the real connection endpoints"
const AF_UNSPEC = 0x00;
const TCP4 = 0x11;
const TCP6 = 0x21;

/** Version 2, binary: signature, ver/cmd, family, big-endian length, addresses, ports. */
export function encodeProxyV2(src: Endpoint, dst: Endpoint): Buffer {
  const from = parseAddress(src.address);
  const to = parseAddress(dst.address);
  if (!from || !to || !validPort(src.port) || !validPort(dst.port)) {
    // As HAProxy sends it: receivers may reject PROXY with AF_UNSPEC (HAProxy 2.6 does), never LOCAL.
    const header = Buffer.alloc(16);
    V2_SIGNATURE.copy(header, 0);
    header[12] = V2_LOCAL;
    header[13] = AF_UNSPEC;
    header.writeUInt16BE(0, 14);
    return header;
  }
  // Mixed families go as TCP6 with the IPv4 side in its IPv4-mapped form, as HAProxy does.
  const v4 = from.family === 4 && to.family === 4;
  const addressLength = v4 ? 4 : 16;
  const header = Buffer.alloc(16 + addressLength * 2 + 4);
  V2_SIGNATURE.copy(header, 0);
  header[12] = V2_PROXY;
  header[13] = v4 ? TCP4 : TCP6;
  header.writeUInt16BE(addressLength * 2 + 4, 14);
  header.set(v4 ? from.bytes.subarray(12) : from.bytes, 16);
  header.set(v4 ? to.bytes.subarray(12) : to.bytes, 16 + addressLength);
  header.writeUInt16BE(src.port, 16 + addressLength * 2);
  header.writeUInt16BE(dst.port, 18 + addressLength * 2);
  return header;
}

interface ParsedAddress {
  family: 4 | 6;
  /** 16 bytes; IPv4 addresses in their IPv4-mapped form (::ffff:a.b.c.d). */
  bytes: Uint8Array;
  /** Text for v1: dotted quad for IPv4 (mapped ones unwrapped), the given text for IPv6. */
  text: string;
}

function validPort(port: number): boolean {
  return Number.isInteger(port) && port >= 0 && port <= 65535;
}

function parseAddress(address: string): ParsedAddress | undefined {
  const zone = address.indexOf('%');
  const text = zone >= 0 ? address.slice(0, zone) : address;
  if (net.isIPv4(text)) {
    const bytes = new Uint8Array(16);
    bytes[10] = 0xff;
    bytes[11] = 0xff;
    bytes.set(ipv4Bytes(text), 12);
    return { family: 4, bytes, text };
  }
  if (!net.isIPv6(text)) return undefined;
  const bytes = ipv6Bytes(text);
  const mapped = bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (mapped) return { family: 4, bytes, text: Array.from(bytes.subarray(12)).join('.') };
  return { family: 6, bytes, text };
}

function ipv4Bytes(text: string): number[] {
  return text.split('.').map(Number);
}

/** Bytes of a valid IPv6 text address ("::" compression and a dotted IPv4 tail allowed). */
function ipv6Bytes(text: string): Uint8Array {
  let source = text;
  const lastColon = source.lastIndexOf(':');
  const tail = source.slice(lastColon + 1);
  if (tail.includes('.')) {
    const [a, b, c, d] = ipv4Bytes(tail);
    source = `${source.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, rest] = source.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = rest === undefined ? [] : rest ? rest.split(':') : [];
  const zeros = 8 - headGroups.length - tailGroups.length;
  const groups = [...headGroups, ...Array<string>(rest === undefined ? 0 : zeros).fill('0'), ...tailGroups];
  const bytes = new Uint8Array(16);
  groups.forEach((group, i) => {
    const value = parseInt(group, 16);
    bytes[i * 2] = value >> 8;
    bytes[i * 2 + 1] = value & 0xff;
  });
  return bytes;
}
