import { Column, Entity, Unique } from 'typeorm';
import type { Bind, FrontendInspect, FrontendTimeouts } from '../schema/snapshot.js';
import { TetherEntity } from '../database/tether.entity.js';

/** A frontend of the head snapshot, normalised; written by the config pipeline only. */
@Entity('frontends')
@Unique('UQ_frontends_name', ['name'])
export class FrontendEntity extends TetherEntity {
  @Column({ type: 'varchar' })
  name: string;

  @Column({ type: 'varchar' })
  bindAddress: string;

  @Column({ type: 'integer' })
  bindPort: number;

  /** Every bind, in order (bindAddress/bindPort are the first); null only before the first write. */
  @Column({ type: 'simple-json', nullable: true })
  binds: Bind[] | null;

  /** Name of the backend (references are by name, as in the snapshot). */
  @Column({ type: 'varchar' })
  backend: string;

  @Column({ type: 'integer', nullable: true })
  maxconn: number | null;

  @Column({ type: 'simple-json', nullable: true })
  allow: string[] | null;

  @Column({ type: 'varchar', nullable: true })
  inspect: FrontendInspect | null;

  /** The frontend's own timeouts; null: none (defaults.timeouts apply). */
  @Column({ type: 'simple-json', nullable: true })
  timeouts: FrontendTimeouts | null;

  @Column({ type: 'boolean' })
  enabled: boolean;

  /** Order within the snapshot. */
  @Column({ type: 'integer' })
  position: number;
}
