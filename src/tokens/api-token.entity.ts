import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
} from 'typeorm';
import type { Role } from '../auth/roles.js';
import { UserEntity } from '../users/user.entity.js';

@Entity('api_tokens')
export class ApiTokenEntity {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'varchar' })
  name: string;

  /** Never above the owner's role: capped when the owner is demoted, and checked again at each use. */
  @Column({ type: 'varchar' })
  role: Role;

  /** SHA-256 of the secret part (tokens/token-secret.ts); the token itself is shown once, at creation. */
  @Column({ type: 'varchar' })
  secretHash: string;

  /** Who made it, as shown in the list and the audit log (a username, or `token:<name>`). */
  @Column({ type: 'varchar' })
  createdBy: string;

  /** The user the token acts for: the one who made it, or the owner of the token that made it. */
  @ManyToOne(() => UserEntity, { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({ name: 'ownerId' })
  owner: UserEntity;

  @Index('IDX_api_tokens_ownerId')
  @Column({ type: 'integer' })
  ownerId: number;

  @CreateDateColumn({ type: 'datetime' })
  createdAt: Date;

  @Column({ type: 'datetime', nullable: true })
  lastUsedAt: Date | null;
}
