import { Column, Entity, JoinColumn, ManyToOne, Unique, type Relation } from 'typeorm';
import { TetherEntity } from '../database/tether.entity.js';
import { BackendEntity } from './backend.entity.js';

/** A server of a backend in the head snapshot; names are unique within their backend. */
@Entity('servers')
@Unique('UQ_servers_backend_name', ['backendId', 'name'])
export class ServerEntity extends TetherEntity {
  @Column({ type: 'integer' })
  backendId: number;

  @ManyToOne(() => BackendEntity, (backend) => backend.servers, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'backendId', foreignKeyConstraintName: 'FK_servers_backend' })
  backend: Relation<BackendEntity>;

  @Column({ type: 'varchar' })
  name: string;

  @Column({ type: 'varchar' })
  address: string;

  @Column({ type: 'integer' })
  port: number;

  @Column({ type: 'integer' })
  weight: number;

  @Column({ type: 'integer', nullable: true })
  maxconn: number | null;

  @Column({ type: 'boolean' })
  backup: boolean;

  @Column({ type: 'boolean' })
  check: boolean;

  /** The port health checks connect to; null: the server's port. */
  @Column({ type: 'integer', nullable: true })
  checkPort: number | null;

  @Column({ type: 'integer' })
  position: number;
}
