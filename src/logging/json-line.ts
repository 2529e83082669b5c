// The JSON session line as pino would write it (`{"level":30,"time":"<ISO>","pid":N,<record>,"msg":"session"}`),
// built directly: the record's own JSON.stringify (V8's fast path) inside a per-second cached head. pino's generic
// serialisation cost about 6 µs per line more (docs/session-logs.md, "Cost"); the output is the same.
import type { SessionEndRecord } from '../runtime/types.js';

const INFO = 30;
const pad3 = (n: number) => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : String(n));

export class SessionJsonLines {
  private second = NaN;
  /** `{"level":30,"time":"2026-12-05T13:40:01.` for the current second. */
  private head = '';
  private readonly pidPart: string;

  constructor(pid = process.pid) {
    this.pidPart = `Z","pid":${pid},`;
  }

  /** One line, newline included. */
  line(record: SessionEndRecord, now = Date.now()): string {
    const second = Math.floor(now / 1000);
    if (second !== this.second) {
      this.second = second;
      this.head = `{"level":${INFO},"time":"${new Date(second * 1000).toISOString().slice(0, 20)}`;
    }
    const body = JSON.stringify(record);
    // An empty record ('{}') has no field to follow the pid.
    const fields = body.length > 2 ? `${body.slice(1, -1)},` : '';
    return `${this.head}${pad3(now - second * 1000)}${this.pidPart}${fields}"msg":"session"}\n`;
  }
}
