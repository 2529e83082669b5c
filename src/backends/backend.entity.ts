import { Column, Entity, OneToMany, Unique, type Relation } from 'typeorm';
import type {
  BackendCheck,
  BackendCmpp,
  BackendTimeouts,
  BalanceAlgorithm,
  HashType,
  OnMarkedDown,
  SendProxy,
} from '../schema/snapshot.js';
import { TetherEntity } from '../database/tether.entity.js';
import { ServerEntity } from './server.entity.js';

/** A backend of the head snapshot, normalised; written by the config pipeline only. */
@Entity('backends')
@Unique('UQ_backends_name', ['name'])
export class BackendEntity extends TetherEntity {
  @Column({ type: 'varchar' })
  name: string;

  @Column({ type: 'varchar' })
  balance: BalanceAlgorithm;

  @Column({ type: 'varchar' })
  hashType: HashType;

  /** Check settings, secret included (never returned by the API in clear). */
  @Column({ type: 'simple-json' })
  check: BackendCheck;

  @Column({ type: 'varchar' })
  sendProxy: SendProxy;

  @Column({ type: 'varchar' })
  onMarkedDown: OnMarkedDown;

  /** Attempts after a failed connect; null: absent (DEFAULT_RETRIES). */
  @Column({ type: 'integer', nullable: true })
  retries: number | null;

  /** null: absent (DEFAULT_REDISPATCH). */
  @Column({ type: 'boolean', nullable: true })
  redispatch: boolean | null;

  /** The backend's own timeouts; null: none (defaults.timeouts apply). */
  @Column({ type: 'simple-json', nullable: true })
  timeouts: BackendTimeouts | null;

  /** Per-account CMPP caps and login limits; null: none. */
  @Column({ type: 'simple-json', nullable: true })
  cmpp: BackendCmpp | null;

  @Column({ type: 'integer' })
  position: number;

  @OneToMany(() => ServerEntity, (server) => server.backend, { cascade: true })
  servers: Relation<ServerEntity>[];
}
