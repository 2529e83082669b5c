// The session log: one line per ended session, JSON as pino writes it (default; json-line.ts) or HAProxy's tcplog text line
// (TETHER_LOG_FORMAT=haproxy), optionally also to syslog over UDP. Writes go through an asynchronous
// sonic-boom destination (pino.destination): the relay never waits on stdout, and a stalled reader costs at most MAX_BUFFERED
// bytes before lines are dropped and counted (docs/session-logs.md).
import { pino } from 'pino';
import type { SonicBoom } from 'sonic-boom';
import type { SessionEndRecord } from '../runtime/types.js';
import type { LogTarget } from '../schema/snapshot.js';
import { SessionJsonLines } from './json-line.js';
import { SyslogSender, type SyslogTarget } from './syslog.js';
import { tcplogLine } from './tcplog-format.js';

export type SessionLogFormat = 'json' | 'haproxy';
export const SESSION_LOG_FORMATS: SessionLogFormat[] = ['json', 'haproxy'];

/** Bytes held for a slow destination before new lines are dropped. */
export const MAX_BUFFERED = 16 * 1024 * 1024;

export interface SessionLogOptions {
  format: SessionLogFormat;
  /** A file descriptor (default 1, stdout) or a file path. */
  destination?: number | string;
  /** The appliance's syslog target (TETHER_SYSLOG): used while the config names none. */
  syslog?: SyslogTarget;
  /** Bytes held for a slow destination before lines are dropped (default MAX_BUFFERED). */
  maxBuffered?: number;
}

export class SessionLog {
  private readonly stream: SonicBoom;
  /** JSON lines as pino writes them (json-line.ts); null for the tcplog text format. */
  private readonly json: SessionJsonLines | null;
  private syslog: SyslogSender | null;
  /** The config's `defaults.log` last seen (compared by reference: unchanged configs cost nothing). */
  private configTarget: LogTarget | undefined;
  /** Drops counted by syslog senders already replaced. */
  private droppedBySyslogs = 0;
  private closed = false;
  /** Lines the destination dropped because MAX_BUFFERED bytes were already waiting. */
  droppedLines = 0;

  constructor(private readonly options: SessionLogOptions) {
    this.stream = pino.destination({
      dest: options.destination ?? 1,
      sync: false,
      maxLength: options.maxBuffered ?? MAX_BUFFERED,
      // Lines are gathered into writes of 4 KiB or more (flushed at least every 100 ms): one write per session
      // would cost a thread-pool round trip per connection (measured: docs/session-logs.md, "Cost").
      minLength: 4096,
      periodicFlush: 100,
      // Lines are handed over as Buffers and gathered in a list: in its default (string) mode sonic-boom appends
      // each line to a string and measures that string's UTF-8 length again per line (docs/session-logs.md, "Cost").
      contentMode: 'buffer',
    });
    this.stream.on('drop', () => this.droppedLines++);
    // A destination that fails (EPIPE, a full disk) must not take the proxy down with it.
    this.stream.on('error', () => this.droppedLines++);
    this.json = options.format === 'json' ? new SessionJsonLines() : null;
    this.syslog = options.syslog ? new SyslogSender(options.syslog) : null;
  }

  /** Lines dropped on the syslog side (too many sends in flight, or a failed send), all targets so far. */
  get syslogDropped(): number {
    return this.droppedBySyslogs + (this.syslog?.dropped ?? 0);
  }

  /**
   * The config's syslog target (`defaults.log`), applied live: it takes precedence over the appliance's
   * TETHER_SYSLOG, which applies again once the config names none. A new target gets a new socket; lines
   * in flight to the old one may be dropped.
   */
  useConfigTarget(target: LogTarget | undefined): void {
    if (target === this.configTarget) return;
    this.configTarget = target;
    const wanted: SyslogTarget | undefined = target
      ? { host: target.address, port: target.port, facility: target.facility }
      : this.options.syslog;
    const current = this.syslog?.target;
    if (
      current?.host === wanted?.host &&
      current?.port === wanted?.port &&
      current?.facility === wanted?.facility
    )
      return;
    if (this.syslog) {
      this.droppedBySyslogs += this.syslog.dropped;
      this.syslog.close();
    }
    this.syslog = wanted && !this.closed ? new SyslogSender(wanted) : null;
  }

  write(record: SessionEndRecord): void {
    if (this.closed) return;
    const line = this.options.format === 'haproxy' || this.syslog !== null ? tcplogLine(record) : '';
    const text = this.json !== null ? this.json.line(record) : `${line}\n`;
    // contentMode 'buffer' takes Buffers; sonic-boom's typings know only strings.
    this.stream.write(Buffer.from(text) as unknown as string);
    this.syslog?.send(line);
  }

  /** Writes what is buffered, then closes the destination (and the syslog socket). A reader that doesn't take the
   *  rest within `flushTimeoutMs` loses it: shutdown never hangs on a stuck stdout. */
  async close(flushTimeoutMs = 2000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.syslog?.close();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.stream.destroy();
        resolve();
      }, flushTimeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.stream.once('close', done);
      this.stream.once('error', done);
      this.stream.end();
    });
  }
}
