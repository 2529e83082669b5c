// Session log lines to a syslog server over UDP, as HAProxy's `log <address> <facility>` does (RFC 3164 framing,
// severity info, ending in a newline as HAProxy's datagrams do). One datagram per line; sends in flight are bounded and the excess dropped and counted, so a
// slow or unreachable collector never grows memory (docs/session-logs.md, "Syslog").
import dgram from 'node:dgram';
import { isIP } from 'node:net';
import { SYSLOG_FACILITIES as FACILITIES } from '../schema/fields.js';

export interface SyslogTarget {
  host: string;
  port: number;
  facility: (typeof FACILITIES)[number];
}

/** Sends not yet handed to the kernel; past this, lines are dropped. */
const MAX_IN_FLIGHT = 1024;
const SEVERITY_INFO = 6;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Parses TETHER_SYSLOG: `<ip>:<port>[,<facility>]` (IPv6 in brackets); throws naming what is wrong. */
export function parseSyslogTarget(text: string): SyslogTarget {
  const [address, facilityText = 'local0', ...rest] = text.split(',');
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(address.trim());
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  if (
    rest.length > 0 ||
    host === undefined ||
    isIP(host) === 0 ||
    !Number.isInteger(port) ||
    port < 1 ||
    port > 65535
  )
    throw new Error(`TETHER_SYSLOG must be <ip>:<port>[,<facility>], got "${text}"`);
  const facility = facilityText.trim() as SyslogTarget['facility'];
  if (!FACILITIES.includes(facility))
    throw new Error(`TETHER_SYSLOG facility must be one of ${FACILITIES.join(', ')}, got "${facilityText}"`);
  return { host, port, facility };
}

export class SyslogSender {
  /** Lines dropped because too many sends were in flight or a send failed. */
  dropped = 0;
  private inFlight = 0;
  private readonly socket: dgram.Socket;
  private readonly prefix: string;
  /**
   * The socket is connected to the target: a send then skips the per-datagram address lookup (an asynchronous
   * hop) and the kernel's route lookup (measured: docs/session-logs.md, "Cost"). Lines ended before the connect
   * completes (within a tick or so, the address being an IP) wait here, at most MAX_IN_FLIGHT of them.
   */
  private waiting: string[] | null = [];
  private readonly afterSend = (error: Error | null): void => {
    this.inFlight--;
    if (error) this.dropped++;
  };
  /** RFC 3164's TIMESTAMP has whole seconds: formatted once per second, not per line. */
  private dateSecond = -1;
  private dateText = '';

  constructor(
    readonly target: SyslogTarget,
    tag = 'tether',
  ) {
    this.socket = dgram.createSocket(isIP(target.host) === 6 ? 'udp6' : 'udp4');
    this.socket.on('error', () => this.dropped++);
    this.socket.unref();
    this.socket.connect(target.port, target.host, () => {
      if (this.waiting === null) return; // closed meanwhile
      const lines = this.waiting;
      this.waiting = null;
      for (const line of lines) this.transmit(line);
    });
    const pri = FACILITIES.indexOf(target.facility) * 8 + SEVERITY_INFO;
    this.prefix = `<${pri}>`;
    this.tag = `${tag}[${process.pid}]: `;
  }

  private readonly tag: string;

  send(line: string, now = Date.now()): void {
    if (this.inFlight >= MAX_IN_FLIGHT) {
      this.dropped++;
      return;
    }
    const second = Math.floor(now / 1000);
    if (second !== this.dateSecond) {
      this.dateSecond = second;
      this.dateText = rfc3164Date(now);
    }
    const datagram = `${this.prefix}${this.dateText} ${this.tag}${line}\n`;
    if (this.waiting === null) this.transmit(datagram);
    else if (this.waiting.length < MAX_IN_FLIGHT) this.waiting.push(datagram);
    else this.dropped++;
  }

  private transmit(datagram: string): void {
    this.inFlight++;
    this.socket.send(datagram, this.afterSend);
  }

  close(): void {
    if (this.waiting) this.dropped += this.waiting.length;
    this.waiting = null;
    this.socket.close();
  }
}

/** RFC 3164 TIMESTAMP: `Dec  5 13:40:01` (day padded with a space), local time. */
function rfc3164Date(ms: number): string {
  const d = new Date(ms);
  const day = d.getDate();
  const time = [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => (n < 10 ? `0${n}` : n)).join(':');
  return `${MONTHS[d.getMonth()]} ${day < 10 ? ` ${day}` : day} ${time}`;
}
