// One measurement of one target. The parent reads the proxy's CPU and memory from /proc at the
// edges of the window the load client counts.
import { performance } from 'node:perf_hooks';
import { NodeChild, sleep } from './children.js';
import { Histogram } from './histogram.js';
import type { ConnRateResult, HoldResult, LoadResult } from './load-client.js';
import { cpuMs, cpuTime, rssKb, type CpuTime } from './procfs.js';
import { startProxy, type ProxyName } from './proxies.js';
import { settings, type TargetName } from './settings.js';

export interface Target {
  name: TargetName;
  ports: number[];
  /** The proxy's processes (one, or a primary and its workers); undefined for direct. */
  pids?: number[];
  /** Sessions the proxy still holds, when it can tell (Tether's stats). */
  liveSessions?: () => Promise<number>;
}

export interface LoadMeasurement {
  target: TargetName;
  round: number;
  connections: number;
  inflight: number;
  messages: number;
  framesPerWrite: number;
  elapsedMs: number;
  rate: number;
  p50Us: number;
  p99Us: number;
  maxUs: number;
  proxyCpuMs: number | null;
  proxyCpuUsPerMessage: number | null;
  proxyUserUsPerMessage: number | null;
  proxySystemUsPerMessage: number | null;
  proxyCpuPercent: number | null;
  clientCpuPercent: number;
  errors: Record<string, number>;
}

export interface ConnRateMeasurement {
  target: TargetName;
  round: number;
  completed: number;
  attempts: number;
  elapsedMs: number;
  rate: number;
  p50Us: number;
  p99Us: number;
  proxyCpuUsPerConnection: number | null;
  errors: Record<string, number>;
}

export interface IdleMeasurement {
  target: ProxyName;
  round: number;
  requested: number;
  established: number;
  openAtMeasure: number;
  backendConnections: number;
  rssBeforeKb: number;
  rssAfterKb: number;
  kbPerConnection: number;
  connectMs: number;
  /** Tether only: sessions its stats still count once every client has closed (should be 0). */
  sessionsLeftAfterClose: number | null;
  errors: Record<string, number>;
}

export class Bench {
  constructor(
    readonly client: NodeChild,
    readonly backend: NodeChild,
  ) {}

  async load(
    target: Target,
    round: number,
    shape: { connections: number; inflight: number },
    windowMs: number,
  ) {
    await this.client.request('loadOpen', {
      host: '127.0.0.1',
      ports: target.ports,
      connections: shape.connections,
      inflight: shape.inflight,
      sources: settings.sources,
      timeoutMs: 15_000,
    });
    let result: LoadResult;
    let proxyCpu: CpuTime | null = null;
    let clientCpu = 0;
    let wallMs = 0;
    try {
      await sleep(settings.rampMs);
      const proxy0 = target.pids ? cpuTime(target.pids) : null;
      const client0 = cpuMs(this.client.pid);
      const t0 = performance.now();
      await this.client.request('mark');
      await sleep(windowMs);
      const proxy1 = target.pids ? cpuTime(target.pids) : null;
      const client1 = cpuMs(this.client.pid);
      wallMs = performance.now() - t0;
      if (proxy0 && proxy1) {
        proxyCpu = { userMs: proxy1.userMs - proxy0.userMs, systemMs: proxy1.systemMs - proxy0.systemMs };
      }
      clientCpu = client1 - client0;
    } finally {
      result = await this.client.request<LoadResult>('loadClose', undefined, 30_000);
    }
    const histogram = new Histogram();
    histogram.add(result.histogram, result.max);
    const perMessage = (ms: number | null) =>
      ms === null || result.messages === 0 ? null : (ms * 1000) / result.messages;
    const measurement: LoadMeasurement = {
      target: target.name,
      round,
      connections: shape.connections,
      inflight: shape.inflight,
      messages: result.messages,
      framesPerWrite: result.framesPerWrite,
      elapsedMs: result.elapsedMs,
      rate: (result.messages * 1000) / result.elapsedMs,
      p50Us: histogram.percentile(0.5),
      p99Us: histogram.percentile(0.99),
      maxUs: histogram.max,
      proxyCpuMs: proxyCpu && proxyCpu.userMs + proxyCpu.systemMs,
      proxyCpuUsPerMessage: perMessage(proxyCpu && proxyCpu.userMs + proxyCpu.systemMs),
      proxyUserUsPerMessage: perMessage(proxyCpu && proxyCpu.userMs),
      proxySystemUsPerMessage: perMessage(proxyCpu && proxyCpu.systemMs),
      proxyCpuPercent: proxyCpu && ((proxyCpu.userMs + proxyCpu.systemMs) / wallMs) * 100,
      clientCpuPercent: (clientCpu / wallMs) * 100,
      errors: result.errors,
    };
    return measurement;
  }

  async connRate(target: Target, round: number): Promise<ConnRateMeasurement> {
    const proxy0 = target.pids ? cpuMs(target.pids) : 0;
    const result = await this.client.request<ConnRateResult>(
      'connRate',
      { host: '127.0.0.1', ports: target.ports, sources: settings.sources, ...settings.connRate },
      settings.connRate.durationMs + 30_000,
    );
    const proxyCpu = target.pids ? cpuMs(target.pids) - proxy0 : null;
    const histogram = new Histogram();
    histogram.add(result.histogram, result.max);
    return {
      target: target.name,
      round,
      completed: result.completed,
      attempts: result.attempts,
      elapsedMs: result.elapsedMs,
      rate: (result.completed * 1000) / result.elapsedMs,
      p50Us: histogram.percentile(0.5),
      p99Us: histogram.percentile(0.99),
      proxyCpuUsPerConnection:
        proxyCpu === null || result.completed === 0 ? null : (proxyCpu * 1000) / result.completed,
      errors: result.errors,
    };
  }

  /**
   * RSS growth per idle connection, on a fresh proxy process: memory a process once grew and freed
   * is often kept, so a proxy that already carried the load rounds would look cheaper than it is.
   */
  async idle(name: ProxyName, backendPorts: number[], round: number): Promise<IdleMeasurement> {
    const proxy = await startProxy(name, backendPorts);
    const target = { host: '127.0.0.1', ports: [proxy.port], sources: settings.sources, timeoutMs: 90_000 };
    try {
      // The same path once at small scale first, so one-time costs (code, pools) are in the baseline.
      await this.client.request('holdOpen', {
        ...target,
        connections: settings.idle.warmupConnections,
        concurrency: settings.idle.concurrency,
      });
      await this.client.request('holdClose');
      await this.waitBackendIdle();
      await sleep(settings.idle.settleMs);
      const rssBeforeKb = rssKb(proxy.pids);
      const hold = await this.client.request<HoldResult>(
        'holdOpen',
        { ...target, connections: settings.idle.connections, concurrency: settings.idle.concurrency },
        120_000,
      );
      await sleep(settings.idle.settleMs);
      const rssAfterKb = rssKb(proxy.pids);
      const { open } = await this.client.request<{ open: number }>('holdStatus');
      const { current } = await this.backend.request<{ current: number }>('stats');
      await this.client.request('holdClose', undefined, 30_000);
      const sessionsLeftAfterClose = proxy.liveSessions ? await waitSessionsGone(proxy.liveSessions) : null;
      return {
        target: name,
        round,
        requested: settings.idle.connections,
        established: hold.established,
        openAtMeasure: open,
        backendConnections: current,
        rssBeforeKb,
        rssAfterKb,
        kbPerConnection: hold.established > 0 ? (rssAfterKb - rssBeforeKb) / hold.established : NaN,
        connectMs: hold.elapsedMs,
        sessionsLeftAfterClose,
        errors: hold.errors,
      };
    } finally {
      await this.client.request('holdClose').catch(() => undefined);
      await proxy.stop();
      await this.waitBackendIdle();
    }
  }

  /** Bounded wait until the backends have seen every connection of the previous phase close. */
  async waitBackendIdle(timeoutMs = 10_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { current } = await this.backend.request<{ current: number }>('stats');
      if (current === 0 || Date.now() > deadline) return current;
      await sleep(100);
    }
  }
}

/** Bounded wait for a proxy to drop its sessions after the clients closed; returns how many remain. */
export async function waitSessionsGone(
  liveSessions: () => Promise<number>,
  timeoutMs = 5000,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = await liveSessions();
    if (left === 0 || Date.now() > deadline) return left;
    await sleep(100);
  }
}
