import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { AdminState } from '../runtime/types.js';

/**
 * The operator's admin state of a server (runtime state, not part of any snapshot: a rollback never
 * touches it). Kept by backend/server name, so it survives the server leaving and coming back.
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
}
