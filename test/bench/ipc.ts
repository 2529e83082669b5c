// Request/response over a child process's IPC channel. Child side: serve(); parent side: see children.ts.

export interface Request {
  id: number;
  cmd: string;
  args?: unknown;
}

export type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

export type Handlers = Record<string, (args: any) => unknown>;

/** Answers the parent's requests; exits when the parent goes away so nothing outlives a benchmark. */
export function serve(handlers: Handlers): void {
  if (!process.send) throw new Error('must be started with an IPC channel');
  process.on('disconnect', () => process.exit(0));
  process.on('message', (message: Request) => {
    const handler = handlers[message.cmd];
    const reply = (r: Reply): void => {
      if (process.connected) process.send!(r);
    };
    if (!handler) return reply({ id: message.id, ok: false, error: `unknown command ${message.cmd}` });
    Promise.resolve()
      .then(() => handler(message.args))
      .then(
        (result) => reply({ id: message.id, ok: true, result: result ?? null }),
        (err: unknown) => reply({ id: message.id, ok: false, error: describe(err) }),
      );
  });
}

/** Tells the parent the child is ready (first message, outside the request/response flow). */
export function announce(info: Record<string, unknown>): void {
  process.send!({ ready: true, ...info });
}

export function describe(err: unknown): string {
  if (err instanceof Error) return `${(err as NodeJS.ErrnoException).code ?? err.name}: ${err.message}`;
  return String(err);
}
