import { Column, Entity } from 'typeorm';
import type { Role } from '../auth/roles.js';
import { TetherEntity } from '../database/tether.entity.js';

@Entity('users')
export class UserEntity extends TetherEntity {
  @Column({ type: 'varchar', unique: true })
  username: string;

  @Column({ type: 'varchar' })
  role: Role;

  /** scrypt hash (auth/secret-hash.ts); never leaves UsersService. */
  @Column({ type: 'varchar' })
  passwordHash: string;
}
