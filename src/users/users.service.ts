import { Injectable, UnauthorizedException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository, type EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../common/errors.js';
import { Mutex } from '../common/mutex.js';
import type { Caller } from '../auth/caller.js';
import { hashSecret, verifySecret } from '../auth/secret-hash.js';
import { LoginSessionEntity } from '../auth/login-session.entity.js';
import { lesserRole, roleAllows } from '../auth/roles.js';
import { ApiTokenEntity } from '../tokens/api-token.entity.js';
import { capOwnerTokens, revokeOwnerTokens } from '../tokens/owner-tokens.js';
import { CreateUserDto, UpdateUserDto, UserResponseDto } from './dto/user.dto.js';
import { UserEntity } from './user.entity.js';

// Checked against when the username is unknown, so a login takes as long for a missing user as for a wrong password.
const UNKNOWN_USER_HASH = hashSecret('tether: no such user');

/**
 * The row may lose its admin role (or go) only if another admin remains. Part of the very UPDATE or DELETE statement,
 * so the check and the write are one atomic step even across processes sharing the database file.
 */
const LEAVES_AN_ADMIN = `("role" != 'admin' OR (SELECT COUNT(*) FROM "users" WHERE "role" = 'admin') > 1)`;

/** Users are people operating the appliance: a bound keeps every list and check over them small. */
export const MAX_USERS = 1000;

@Injectable()
export class UsersService {
  /** User changes run one at a time: each is a read, a password hash, then one transaction. */
  private readonly changes = new Mutex();

  constructor(
    @InjectRepository(UserEntity) private readonly users: Repository<UserEntity>,
    private readonly audit: AuditService,
  ) {}

  async list(): Promise<UserResponseDto[]> {
    const users = await this.users.find({ order: { username: 'ASC' } });
    return users.map(toResponse);
  }

  async get(username: string): Promise<UserResponseDto> {
    return toResponse(await this.getEntityOrThrow(username));
  }

  create(dto: CreateUserDto, caller: Caller): Promise<UserResponseDto> {
    return this.changes.run(async () => {
      await this.confirmCallerIsAdmin(caller);
      if (await this.users.existsBy({ username: dto.username })) {
        throw new ConflictError(`a user named "${dto.username}" already exists`, 'username');
      }
      if ((await this.users.count()) >= MAX_USERS) {
        throw new ConflictError(`at most ${MAX_USERS} users can exist; delete one first`, 'username');
      }
      const user = await this.users.save(
        this.users.create({
          username: dto.username,
          role: dto.role,
          passwordHash: await hashSecret(dto.password),
        }),
      );
      await this.record(caller, 'user.create', user.username, `role ${user.role}`);
      return toResponse(user);
    });
  }

  /**
   * A new role or password. A lower role caps the user's API tokens at it; a lower role or a new password ends the
   * user's console logins (cookies and login bearers), except the one making the change.
   */
  update(username: string, dto: UpdateUserDto, caller: Caller): Promise<UserResponseDto> {
    return this.changes.run(async () => {
      await this.confirmCallerIsAdmin(caller);
      const user = await this.getEntityOrThrow(username);
      const role = dto.role !== undefined && dto.role !== user.role ? dto.role : undefined;
      const passwordHash = dto.password === undefined ? undefined : await hashSecret(dto.password);
      if (role === undefined && passwordHash === undefined) return toResponse(user);
      const demoted = role !== undefined && roleAllows(user.role, role);
      const changes: string[] = [];
      await this.users.manager.transaction(async (manager) => {
        if (role !== undefined) {
          const result = await manager
            .createQueryBuilder()
            .update(UserEntity)
            .set({ role })
            .where('"id" = :id', { id: user.id })
            .andWhere(LEAVES_AN_ADMIN)
            .execute();
          if (!result.affected) {
            throw new ConflictError(`"${username}" is the last admin; make another user admin first`, 'role');
          }
          changes.push(`role ${user.role} -> ${role}`);
        }
        if (passwordHash !== undefined) {
          await manager.getRepository(UserEntity).update({ id: user.id }, { passwordHash });
          changes.push('password changed');
        }
        if (demoted && role !== undefined) {
          const capped = await capOwnerTokens(manager, user.id, role);
          if (capped > 0) changes.push(`${capped} API token(s) capped to ${role}`);
        }
        if (demoted || passwordHash !== undefined) {
          const ended = await endLogins(manager, user.id, caller.loginSessionId);
          if (ended > 0) changes.push(`${ended} login(s) ended`);
        }
        await this.recordWith(manager, caller, 'user.update', username, changes.join('; '));
      });
      return toResponse(await this.getEntityOrThrow(username));
    });
  }

  /** Deletes the user with their API tokens and console logins, in one transaction. */
  remove(username: string, caller: Caller): Promise<void> {
    return this.changes.run(async () => {
      await this.confirmCallerIsAdmin(caller);
      const user = await this.getEntityOrThrow(username);
      if (caller.actor.tokenId === undefined && caller.actor.username === user.username) {
        throw new ValidationError('you cannot delete the user you are logged in as', 'username');
      }
      await this.users.manager.transaction(async (manager) => {
        const tokens = await revokeOwnerTokens(manager, user.id);
        const logins = await endLogins(manager, user.id);
        const result = await manager
          .createQueryBuilder()
          .delete()
          .from(UserEntity)
          .where('"id" = :id', { id: user.id })
          .andWhere(LEAVES_AN_ADMIN)
          .execute();
        if (!result.affected) {
          throw new ConflictError(`"${username}" is the last admin and cannot be deleted`, 'username');
        }
        const detail = `${tokens} API token(s) revoked, ${logins} login(s) ended`;
        await this.recordWith(manager, caller, 'user.delete', username, detail);
      });
    });
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

  /**
   * The caller was let in as an admin when its request arrived, but changes queued before this one (run one at a
   * time) may have deleted or demoted it, or revoked its token or login, since: it acts only as what it is now.
   */
  private async confirmCallerIsAdmin(caller: Caller): Promise<void> {
    const { userId, tokenId } = caller.actor;
    if (userId === undefined) return; // the system itself (first start)
    const user = await this.users.findOneBy({ id: userId });
    const token =
      tokenId === undefined
        ? undefined
        : await this.users.manager.getRepository(ApiTokenEntity).findOneBy({ id: tokenId });
    const login =
      caller.loginSessionId === undefined
        ? undefined
        : await this.users.manager.getRepository(LoginSessionEntity).existsBy({ id: caller.loginSessionId });
    if (!user || token === null || login === false) {
      throw new UnauthorizedException('the credentials of this request were revoked before it could run');
    }
    const role = token ? lesserRole(token.role, user.role) : user.role;
    if (role !== 'admin') {
      throw new ForbiddenError(
        `changing users needs the admin role; ${caller.actor.username} has ${role} now`,
      );
    }
  }

  private async getEntityOrThrow(username: string): Promise<UserEntity> {
    const user = await this.users.findOneBy({ username });
    if (!user) throw new NotFoundError('user', username);
    return user;
  }

  // Failures are recorded by AuditInterceptor (the routes are @Audited); successes here, with what changed.
  private record(caller: Caller, action: string, target: string, detail?: string) {
    return this.audit.record({ ...this.entry(caller, action, target, detail) });
  }

  private recordWith(manager: EntityManager, caller: Caller, action: string, target: string, detail: string) {
    return this.audit.recordWith(manager, this.entry(caller, action, target, detail));
  }

  private entry(caller: Caller, action: string, target: string, detail?: string) {
    return {
      actor: caller.actor,
      sourceAddress: caller.sourceAddress,
      action,
      target,
      result: 'ok' as const,
      detail,
    };
  }
}

/** Ends a user's console logins (cookie and login bearer alike), except the one making the change; how many. */
async function endLogins(manager: EntityManager, userId: number, keepLoginId?: number): Promise<number> {
  const query = manager
    .createQueryBuilder()
    .delete()
    .from(LoginSessionEntity)
    .where('"userId" = :userId', { userId });
  if (keepLoginId !== undefined) query.andWhere('"id" != :keepLoginId', { keepLoginId });
  return (await query.execute()).affected ?? 0;
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
