// How HAProxy resolves server host names, read against what Tether does (docs/host-names.md): the system resolver
// (`/etc/hosts` included), the first IPv4 address, re-resolved every 30 s, a name that does not resolve at start
// leaving its server down. What says exactly that (the export's own `resolvers` section and server words) is
// understood without a warning; anything else is warned with what Tether does instead (docs/haproxy-import.md).
import { parseTime } from './values.js';

/** Tether's re-resolution period (docs/host-names.md). */
const RESOLVE_EVERY_MS = 30_000;
const INIT_ADDR_METHODS = new Set(['last', 'libc', 'none']);

/**
 * One line of a `resolvers` section: undefined when it says what Tether does, else the warning. Sections are
 * read line by line, so a `nameserver` (another DNS than the system's) is warned where it is written.
 */
export function resolversLine(words: string[]): string | undefined {
  const [keyword, what, value] = words;
  if (keyword === 'parse-resolv-conf' && words.length === 1) return undefined;
  const period = (keyword === 'timeout' && what === 'resolve') || (keyword === 'hold' && what === 'valid');
  if (period && words.length === 3 && parseTime(value)?.ms === RESOLVE_EVERY_MS) return undefined;
  return `\`${words.join(' ')}\` in a \`resolvers\` section is not imported: Tether resolves host names with the system resolver every 30 s`;
}

/**
 * A server's `resolvers`, `resolve-prefer` or `init-addr` word with its value: undefined when it says what
 * Tether does, else the warning. `resolvers <name>` is what Tether always does for a host name (the section's
 * own lines are read above); `init-addr` of last/libc/none is its start (resolved when applied, down when not).
 */
export function serverResolutionWord(word: string, value: string | undefined): string | undefined {
  if (word === 'resolvers' && value !== undefined) return undefined;
  if (word === 'resolve-prefer' && value === 'ipv4') return undefined;
  if (word === 'init-addr' && value !== undefined && value.split(',').every((m) => INIT_ADDR_METHODS.has(m)))
    return undefined;
  if (word === 'resolve-prefer')
    return `\`resolve-prefer ${value ?? ''}\` is not imported: Tether uses a name's first IPv4 address, else its first`;
  return `server parameter \`${word} ${value ?? ''}\` is not imported`;
}

export const SERVER_RESOLUTION_WORDS = new Set(['resolvers', 'resolve-prefer', 'init-addr']);
