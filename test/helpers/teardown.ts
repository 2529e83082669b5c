// Per-test teardown for runtime tests: what a test starts through these is closed after it, newest first.
import type { Socket } from 'node:net';
import { afterEach } from 'vitest';
import { ProxyRuntime } from '../../src/runtime/runtime.js';
import { testNodeInternals } from './internals.js';
import { connect, listen, named, type TestServer } from './net.js';

/** Registers an afterEach in the calling test file; what the returned functions start, it closes. */
export function closeAfterEach() {
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** Runs `cleanup` after the current test. */
  function defer(cleanup: () => Promise<unknown> | unknown): void {
    cleanups.push(cleanup);
  }

  /** A runtime on the paths this run tests (helpers/internals.ts) unless `options.nodeInternals` says. */
  function runtime(options: ConstructorParameters<typeof ProxyRuntime>[0] = {}): ProxyRuntime {
    const rt = new ProxyRuntime({ nodeInternals: testNodeInternals, ...options });
    defer(() => rt.close());
    return rt;
  }

  async function start(onSocket: (socket: Socket) => void): Promise<TestServer> {
    const s = await listen(onSocket);
    defer(() => s.close());
    return s;
  }

  /** Servers that answer each connection with their name, then echo. */
  async function servers(...names: string[]): Promise<TestServer[]> {
    const list = await Promise.all(names.map((n) => listen(named(n))));
    for (const s of list) defer(() => s.close());
    return list;
  }

  async function client(port: number, options?: Parameters<typeof connect>[1]): Promise<Socket> {
    const c = await connect(port, options);
    defer(() => c.destroy());
    return c;
  }

  return { defer, runtime, start, servers, client };
}
