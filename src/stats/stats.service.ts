import { Inject, Injectable, type MessageEvent } from '@nestjs/common';
import { defer, finalize, Observable } from 'rxjs';
import { DrainsService } from '../backends/drains.service.js';
import { ConfigService } from '../config/config.service.js';
import { SampleStore } from '../events/sample-store.service.js';
import { RUNTIME } from '../runtime/runtime.module.js';
import type {
  ProxyRuntimeApi,
  RuntimeEvent,
  RuntimeStats,
  StatsOptions,
  StatsSample,
} from '../runtime/types.js';
import { renderShowStat, type CheckSettings, type ShowStatContext } from './haproxy-csv.js';
import { lastSessionTimes } from './last-session.js';
import { renderMetrics } from './prometheus.js';
import { statsStream } from './stats-stream.js';

@Injectable()
export class StatsService {
  private streams = 0;

  constructor(
    @Inject(RUNTIME) private readonly runtime: ProxyRuntimeApi,
    private readonly config: ConfigService,
    private readonly stored: SampleStore,
    private readonly drains: DrainsService,
  ) {}

  /** The runtime's stats, each draining server with its drain's progress. */
  async stats(options?: StatsOptions): Promise<RuntimeStats> {
    return this.drains.withProgress(await this.runtime.stats(options));
  }

  /**
   * The stats with only the `n` busiest accounts, still sorted by account with the overflow row last, and
   * `cmppAccountsTotal`: a console showing the busiest accounts gets ~50 rows, not 10,001. Busiest: the most SUBMITs
   * the gateways answered (SUBMIT_RESPs server to client: a client cannot inflate them, as it can its own SUBMITs),
   * then SUBMITs sent, then by account.
   */
  async statsBusiest(n: number): Promise<RuntimeStats & { cmppAccountsTotal?: number }> {
    const stats = await this.stats();
    const rows = stats.cmppAccounts;
    if (rows === undefined) return stats;
    const busiest = [...rows]
      .sort(
        (a, b) =>
          b.down.submitResp - a.down.submitResp ||
          b.up.submit - a.up.submit ||
          (a.account < b.account ? -1 : a.account > b.account ? 1 : 0),
      )
      .slice(0, n);
    const kept = new Set(busiest);
    return { ...stats, cmppAccounts: rows.filter((r) => kept.has(r)), cmppAccountsTotal: rows.length };
  }

  /** HAProxy 2.6 `show stat` CSV. */
  async csv(): Promise<string> {
    const { stats, context } = await this.forExport({ cmppAccounts: false });
    return renderShowStat(stats, context);
  }

  /** Prometheus text under HAProxy's exporter names. */
  async metrics(): Promise<string> {
    const { stats, context } = await this.forExport();
    return renderMetrics(stats, context);
  }

  /** Stats plus what HAProxy's formats print beside them: check rise/fall and when each server last got a session. */
  private async forExport(
    options: StatsOptions = {},
  ): Promise<{ stats: RuntimeStats; context: ShowStatContext }> {
    const [stats, sessions, history] = await Promise.all([
      this.runtime.stats(options),
      this.runtime.sessions(),
      this.runtime.history(),
    ]);
    // rise and fall are config, not stats: they come from the snapshot in effect.
    const checks = new Map<string, CheckSettings>(
      this.config.snapshot.backends.map((b) => [b.name, { rise: b.check.rise, fall: b.check.fall }]),
    );
    return { stats, context: { checks, lastSessionAt: lastSessionTimes(stats, sessions, history) } };
  }

  /**
   * Once-a-second samples, oldest first, preceded by the stored ones (one every 10 s, also from before a restart)
   * older than the first of them; only those taken after `since` (epoch ms) when given.
   */
  async history(since?: number): Promise<StatsSample[]> {
    const samples = await this.runtime.history();
    const live = since === undefined ? samples : samples.filter((s) => s.t > since);
    const before = samples.length > 0 ? samples[0].t : Date.now();
    return [...(await this.stored.between(since ?? 0, before)), ...live];
  }

  /** Runtime events (health, admin state, ...) as they happen; unsubscribing detaches the listener. */
  events(): Observable<RuntimeEvent> {
    return new Observable<RuntimeEvent>((subscriber) =>
      this.runtime.onEvent((event) => subscriber.next(event)),
    );
  }

  /** The SSE stream of one client; it ends (timer and runtime listener released) when the client goes. */
  stream(): Observable<MessageEvent> {
    return defer(() => {
      this.streams++;
      return statsStream(this).pipe(finalize(() => this.streams--));
    });
  }

  /** Streams currently open: lets tests and diagnostics see that closed clients leave nothing behind. */
  get openStreams(): number {
    return this.streams;
  }
}
