// Just enough typing of the `smpp` package (no @types exist) for the interop test.
declare module 'smpp' {
  import type { EventEmitter } from 'node:events';

  export interface PDU {
    command: string;
    command_status: number;
    sequence_number: number;
    short_message?: { message?: string } | string | Buffer;
    message_id?: string;
    system_id?: string;
    response(options?: Record<string, unknown>): PDU;
  }

  export interface Session extends EventEmitter {
    send(pdu: PDU, responseCallback?: (pdu: PDU) => void): boolean;
    close(callback?: () => void): void;
    destroy(callback?: () => void): void;
    bind_transceiver(options: Record<string, unknown>, callback?: (pdu: PDU) => void): void;
    submit_sm(options: Record<string, unknown>, callback?: (pdu: PDU) => void): void;
    enquire_link(options: Record<string, unknown>, callback?: (pdu: PDU) => void): void;
    unbind(options: Record<string, unknown>, callback?: (pdu: PDU) => void): void;
  }

  export interface Server extends EventEmitter {
    listen(port: number, host: string, callback?: () => void): void;
    close(callback?: () => void): void;
    address(): { port: number };
  }

  export function createServer(listener: (session: Session) => void): Server;
  export function connect(
    options: { url: string; auto_enquire_link_period?: number },
    listener?: () => void,
  ): Session;

  const smpp: { createServer: typeof createServer; connect: typeof connect };
  export default smpp;
}
