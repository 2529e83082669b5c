import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** What the event log keeps: the runtime's events, and the appliance's own starts. */
export const EVENT_TYPES = [
  'health',
  'admin-state',
  'frontend-error',
  'frontend-open',
  'sessions-closed',
  'worker-exit',
  'appliance-start',
  /** A drain operation's steps: its deadline closed the sessions left, it ended (docs/cmpp-session-control.md). */
  'drain',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** One stored event (health change, admin state, drain, bind): the runtime's event, kept across restarts. */
@Entity('events')
export class EventEntity {
  @PrimaryGeneratedColumn()
  id: number;

  /** When it happened, ms since the epoch. */
  @Index('IDX_events_at')
  @Column({ type: 'integer' })
  at: number;

  @Index('IDX_events_type')
  @Column({ type: 'varchar' })
  type: EventType;

  @Column({ type: 'varchar', nullable: true })
  frontend: string | null;

  @Index('IDX_events_backend')
  @Column({ type: 'varchar', nullable: true })
  backend: string | null;

  @Column({ type: 'varchar', nullable: true })
  server: string | null;

  /** One line as the console shows it, e.g. `gw/s1 UP → DOWN (L4CON)`. */
  @Column({ type: 'text' })
  text: string;

  /** The event's own fields (JSON). */
  @Column({ type: 'text' })
  detail: string;
}
