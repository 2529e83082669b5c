import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import { ConflictError, NotFoundError, ValidationError } from '../common/errors.js';
import type { Caller } from '../auth/caller.js';
import { hashSecret, verifySecret } from '../auth/secret-hash.js';
import { LoginSessionEntity } from '../auth/login-session.entity.js';
import type { Role } from '../auth/roles.js';
import { CreateUserDto, UpdateUserDto, UserResponseDto } from './dto/user.dto.js';
import { UserEntity } from './user.entity.js';

// Checked against when the username is unknown, so a login takes as long for a missing user as for a wrong password.
const UNKNOWN_USER_HASH = hashSecret('tether: no such user');

@Injectable()
export class UsersService {
  constructor(
    @InjectRepository(UserEntity) private readonly users: Repository<UserEntity>,
    @InjectRepository(LoginSessionEntity) private readonly logins: Repository<LoginSessionEntity>,
    private readonly audit: AuditService,
  ) {}

  async list(): Promise<UserResponseDto[]> {
    const users = await this.users.find({ order: { username: 'ASC' } });
    return users.map(toResponse);
  }

  async get(username: string): Promise<UserResponseDto> {
    return toResponse(await this.getEntityOrThrow(username));
  }

  async create(dto: CreateUserDto, caller: Caller): Promise<UserResponseDto> {
    if (await this.users.existsBy({ username: dto.username })) {
      throw new ConflictError(`a user named "${dto.username}" already exists`, 'username');
    }
    const user = await this.users.save(
      this.users.create({
        username: dto.username,
        role: dto.role,
        passwordHash: await hashSecret(dto.password),
      }),
    );
    await this.record(caller, 'user.create', user.username, 'ok', `role ${user.role}`);
    return toResponse(user);
  }

  async update(username: string, dto: UpdateUserDto, caller: Caller): Promise<UserResponseDto> {
    const user = await this.getEntityOrThrow(username);
    const changes: string[] = [];
    if (dto.role !== undefined && dto.role !== user.role) {
      if (user.role === 'admin' && (await this.isLastAdmin(user))) {
        throw new ConflictError(`"${username}" is the last admin; make another user admin first`, 'role');
      }
      changes.push(`role ${user.role} -> ${dto.role}`);
      user.role = dto.role;
    }
    if (dto.password !== undefined) {
      user.passwordHash = await hashSecret(dto.password);
      changes.push('password changed');
    }
    if (changes.length === 0) return toResponse(user);
    await this.users.save(user);
    if (dto.password !== undefined) await this.endLogins(user.id, caller.loginSessionId);
    await this.record(caller, 'user.update', username, 'ok', changes.join('; '));
    return toResponse(user);
  }

  async remove(username: string, caller: Caller): Promise<void> {
    const user = await this.getEntityOrThrow(username);
    if (caller.actor.tokenId === undefined && caller.actor.username === user.username) {
      throw new ValidationError('you cannot delete the user you are logged in as', 'username');
    }
    if (user.role === 'admin' && (await this.isLastAdmin(user))) {
      throw new ConflictError(`"${username}" is the last admin and cannot be deleted`, 'username');
    }
    await this.endLogins(user.id);
    await this.users.delete({ id: user.id });
    await this.record(caller, 'user.delete', username, 'ok');
  }

  /** The user if the password is right; null otherwise, after the same amount of work. */
  async verifyPassword(username: string, password: string): Promise<UserEntity | null> {
    const user = await this.users.findOneBy({ username });
    const valid = await verifySecret(password, user?.passwordHash ?? (await UNKNOWN_USER_HASH));
    return user && valid ? user : null;
  }

  findById(id: number): Promise<UserEntity | null> {
    return this.users.findOneBy({ id });
  }

  count(): Promise<number> {
    return this.users.count();
  }

  async createFirstAdmin(password: string): Promise<void> {
    await this.users.save(
      this.users.create({ username: 'admin', role: 'admin', passwordHash: await hashSecret(password) }),
    );
    await this.audit.record({
      actor: { username: 'system', role: 'admin' },
      action: 'user.create',
      target: 'admin',
      result: 'ok',
      detail: 'first start: no users existed',
    });
  }

  private async isLastAdmin(user: UserEntity): Promise<boolean> {
    return user.role === 'admin' && (await this.users.countBy({ role: 'admin' satisfies Role })) <= 1;
  }

  private async getEntityOrThrow(username: string): Promise<UserEntity> {
    const user = await this.users.findOneBy({ username });
    if (!user) throw new NotFoundError('user', username);
    return user;
  }

  /** A password change or removal ends the user's console logins, except the one making the change. */
  private async endLogins(userId: number, keepLoginId?: number): Promise<void> {
    const query = this.logins.createQueryBuilder().delete().where('userId = :userId', { userId });
    if (keepLoginId !== undefined) query.andWhere('id != :keepLoginId', { keepLoginId });
    await query.execute();
  }

  // Failures are recorded by AuditInterceptor (the routes are @Audited); successes here, with what changed.
  private record(caller: Caller, action: string, target: string, result: 'ok', detail?: string) {
    return this.audit.record({
      actor: caller.actor,
      sourceAddress: caller.sourceAddress,
      action,
      target,
      result,
      detail,
    });
  }
}

function toResponse(user: UserEntity): UserResponseDto {
  return {
    id: user.id,
    username: user.username,
    role: user.role,
    createdAt: user.createdAt.toISOString(),
    updatedAt: user.updatedAt.toISOString(),
  };
}
