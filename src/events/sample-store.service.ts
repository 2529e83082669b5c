import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Between, type Repository } from 'typeorm';
import { RUNTIME } from '../runtime/runtime.module.js';
import type { ProxyRuntimeApi, RuntimeStats, StatsSample } from '../runtime/types.js';
import { StatsSampleEntity } from './stats-sample.entity.js';

/** A chart sample is stored this often (the live ring keeps one a second, in memory). */
export const SAMPLE_EVERY_MS = 10_000;
/** GET /stats/history prepends stored samples of this last stretch to the live ones (the charts show 15 minutes). */
export const STORED_HISTORY_WINDOW_MS = 60 * 60_000;
/**
 * Most bytes of stored samples one GET /stats/history reads: with the 20,000 servers a config may have a sample is
 * ~1 MB, and the hour's 360 of them were parsed and answered at once. Small configs keep the whole hour.
 */
export const STORED_HISTORY_BYTES_MAX = 32 * 1024 * 1024;

/**
 * Stores one chart sample every SAMPLE_EVERY_MS so the charts keep their history across a restart; the retention
 * (src/retention/) deletes those older than `sampleRetentionHours`.
 */
@Injectable()
export class SampleStore implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('SampleStore');
  private timer?: NodeJS.Timeout;

  constructor(
    @InjectRepository(StatsSampleEntity) private readonly samples: Repository<StatsSampleEntity>,
    @Inject(RUNTIME) private readonly runtime: ProxyRuntimeApi,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.record(), SAMPLE_EVERY_MS);
    this.timer.unref();
  }

  /** The last figures before a stop are stored too (the runtime closes after this): the charts show them next time. */
  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.record();
  }

  /** Stores the current figures as one sample. */
  async record(): Promise<void> {
    try {
      const sample = sampleOf(await this.runtime.stats({ cmppAccounts: false }));
      await this.samples.upsert(
        { t: sample.t, data: JSON.stringify({ frontends: sample.frontends, servers: sample.servers }) },
        ['t'],
      );
    } catch (error) {
      this.logger.warn(`chart sample not stored: ${(error as Error).message}`);
    }
  }

  /**
   * Stored samples taken after `after` and before `before` (ms), within the last STORED_HISTORY_WINDOW_MS, oldest
   * first: the newest of them whose data fit in STORED_HISTORY_BYTES_MAX (their sizes are read first, not their data).
   */
  async between(after: number, before: number, now = Date.now()): Promise<StatsSample[]> {
    let from = Math.max(after + 1, now - STORED_HISTORY_WINDOW_MS);
    if (before - 1 < from) return [];
    const sizes: Array<{ t: number; n: number }> = await this.samples.query(
      'SELECT "t", length("data") AS "n" FROM "stats_samples" WHERE "t" BETWEEN ? AND ? ORDER BY "t" DESC',
      [from, before - 1],
    );
    let bytes = 0;
    for (const { t, n } of sizes) {
      bytes += n;
      if (bytes > STORED_HISTORY_BYTES_MAX) break;
      from = t;
    }
    if (sizes.length > 0 && sizes[0].n > STORED_HISTORY_BYTES_MAX) return [];
    const rows = await this.samples.find({ where: { t: Between(from, before - 1) }, order: { t: 'ASC' } });
    return rows.map((row) => ({ t: row.t, ...(JSON.parse(row.data) as Omit<StatsSample, 't'>) }));
  }
}

/** The chart sample of a stats answer: what the runtime's once-a-second ring holds. */
export function sampleOf(stats: RuntimeStats): StatsSample {
  const sample: StatsSample = { t: stats.at, frontends: {}, servers: {} };
  for (const f of stats.frontends)
    sample.frontends[f.name] = { scur: f.scur, stot: f.stot, bin: f.bin, bout: f.bout };
  for (const b of stats.backends)
    for (const s of b.servers)
      sample.servers[`${b.name}/${s.name}`] = { scur: s.scur, stot: s.stot, bin: s.bin, bout: s.bout };
  return sample;
}
