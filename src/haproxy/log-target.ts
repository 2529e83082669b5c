// HAProxy's `log` line of a `global` section → the config's `defaults.log` (docs/haproxy-import.md):
//   log <target> [len <n>] [format <f>] [sample <r>:<n>] <facility> [<level> [<minlevel>]]
// Tether sends UDP syslog to one IP target, so a UDP/IP target is imported and everything else (a Unix socket,
// stdout, a ring, a host name) is said in a warning naming the field to set.
import { isIP } from 'node:net';
import { SYSLOG_FACILITIES } from '../schema/fields.js';
import { DEFAULT_SYSLOG_PORT, type LogTarget, type SyslogFacility } from '../schema/snapshot.js';

const FACILITY_NAMES: ReadonlySet<string> = new Set(SYSLOG_FACILITIES);
/** Words of a `log` line that take a value. */
const WITH_VALUE = new Set(['len', 'format', 'sample', 'profile']);
/** Address prefixes that still mean UDP (HAProxy's default for an IP log target). */
const UDP_PREFIX = /^(?:udp@|udp4@|udp6@|ipv4@|ipv6@)/;

export interface LogLineResult {
  /** The target, when the line names one Tether can send to. */
  target?: LogTarget;
  /** What the import says about the line (parts left out, or why it is not imported). */
  warnings: string[];
}

const HOW = 'set `defaults.log` to an IP syslog target (PUT /api/v1/config) or TETHER_SYSLOG';

export function parseLogLine(args: string[]): LogLineResult {
  const [address = '', ...rest] = args;
  const warnings: string[] = [];
  let facility: SyslogFacility | undefined;
  let levels: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const word = rest[i];
    if (WITH_VALUE.has(word)) {
      const value = rest[++i];
      if (word === 'format' && value !== 'rfc3164' && value !== 'legacy')
        warnings.push(`log format "${value ?? ''}" is not imported: Tether sends RFC 3164 lines`);
      else if (word !== 'format') warnings.push(`log option \`${word} ${value ?? ''}\` is not imported`);
      continue;
    }
    if (facility === undefined && FACILITY_NAMES.has(word)) {
      facility = word as SyslogFacility;
      levels = rest.slice(i + 1);
      break;
    }
    warnings.push(`log word "${word}" is not understood: ignored`);
  }
  if (facility === undefined)
    return { warnings: [`the log line names no syslog facility (HAProxy needs one): not imported; ${HOW}`] };
  if (levels.length > 0)
    warnings.push(
      `log levels "${levels.join(' ')}" are not imported: Tether sends every session line at severity info`,
    );
  const ip = udpAddress(address);
  if (ip === undefined)
    return {
      warnings: [
        `log target "${address}" is not imported: Tether sends syslog over UDP to an IP address only; ${HOW}`,
      ],
    };
  return { target: { ...ip, facility }, warnings };
}

/**
 * `1.2.3.4`, `1.2.3.4:514`, `[::1]:514`, `::1:514`, with an optional `udp@`/`ipv4@`/`ipv6@` prefix. As in HAProxy's
 * bind addresses, digits after the last colon are the port when what precedes them is an address.
 */
function udpAddress(text: string): { address: string; port: number } | undefined {
  const bare = text.replace(UDP_PREFIX, '');
  let address = bare;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(bare);
  const colon = bare.lastIndexOf(':');
  if (bracketed) [, address, portText] = bracketed;
  else if (colon > 0 && /^\d+$/.test(bare.slice(colon + 1)) && isIP(bare.slice(0, colon)) !== 0) {
    address = bare.slice(0, colon);
    portText = bare.slice(colon + 1);
  }
  if (isIP(address) === 0 || address === '0.0.0.0' || address === '::') return undefined;
  const port = portText === undefined ? DEFAULT_SYSLOG_PORT : Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { address, port };
}
