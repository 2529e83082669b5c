import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { AdminState } from '../runtime/types.js';
import type { DrainThen } from '../schema/fields.js';

/**
 * The operator's admin state of a server (runtime state, not part of any snapshot: a rollback never
 * touches it). Kept by backend/server name, so it survives the server leaving and coming back.
 * A drain also keeps when it started and, for a drain operation (deadline and/or `then`), its deadline and
 * where it leaves the server, so the operation goes on after a restart (docs/cmpp-session-control.md, "Drains").
 */
@Entity('server_admin_states')
export class ServerStateEntity {
  @PrimaryColumn({ type: 'varchar' })
  backend: string;

  @PrimaryColumn({ type: 'varchar' })
  server: string;

  @Column({ type: 'varchar' })
  state: AdminState;

  @Column({ type: 'datetime' })
  updatedAt: Date;

  @Column({ type: 'varchar' })
  updatedBy: string;

  /** state drain: when it started (epoch ms); null otherwise (and for drains stored before it was kept). */
  @Column({ type: 'integer', nullable: true })
  drainStartedAt: number | null;

  /** A drain operation's deadline in ms after drainStartedAt; null: none. */
  @Column({ type: 'integer', nullable: true })
  drainDeadlineMs: number | null;

  /** A drain operation's next state; null: a plain drain, which stays drain (as in HAProxy). */
  @Column({ type: 'varchar', nullable: true })
  drainThen: DrainThen | null;
}
