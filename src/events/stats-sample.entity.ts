import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One stored chart sample (every SAMPLE_EVERY_MS), so the charts keep their history across a restart. */
@Entity('stats_samples')
export class StatsSampleEntity {
  /** Sample time, ms since the epoch. */
  @PrimaryColumn({ type: 'integer' })
  t: number;

  /** The StatsSample's frontends and servers (JSON). */
  @Column({ type: 'text' })
  data: string;
}
