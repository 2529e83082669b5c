import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
} from 'typeorm';
import { UserEntity } from '../users/user.entity.js';

/**
 * A console login. The cookie value and the short-lived bearer are random 32-byte secrets; only their SHA-256 is
 * stored (with 256 bits of entropy a slow hash adds nothing and would cost every request).
 */
@Entity('login_sessions')
export class LoginSessionEntity {
  @PrimaryGeneratedColumn()
  id: number;

  @ManyToOne(() => UserEntity, { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({ name: 'userId' })
  user: UserEntity;

  @Index('IDX_login_sessions_userId')
  @Column({ type: 'integer' })
  userId: number;

  @Column({ type: 'varchar', unique: true })
  cookieHash: string;

  @Column({ type: 'varchar', unique: true })
  bearerHash: string;

  @Column({ type: 'varchar', nullable: true })
  sourceAddress: string | null;

  @CreateDateColumn({ type: 'datetime' })
  createdAt: Date;

  /** Sliding: a login unused for the idle timeout is over. */
  @Column({ type: 'datetime' })
  lastSeenAt: Date;

  /** Absolute end, however active the login is. */
  @Column({ type: 'datetime' })
  expiresAt: Date;

  @Column({ type: 'datetime' })
  bearerExpiresAt: Date;
}
