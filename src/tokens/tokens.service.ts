import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import { ConflictError, ForbiddenError, NotFoundError } from '../common/errors.js';
import { Mutex } from '../common/mutex.js';
import type { Caller } from '../auth/caller.js';
import { lesserRole, type Actor, type Role } from '../auth/roles.js';
import { hydrated, rawRow } from '../database/raw-rows.js';
import { ApiTokenEntity } from './api-token.entity.js';
import { checkTokenSecret, hashTokenSecret } from './token-secret.js';
import { CreateTokenDto, CreatedTokenResponseDto, TokenResponseDto } from './dto/token.dto.js';
import { formatToken, newTokenSecret, parseToken } from './token-format.js';

/** Tokens one user may hold at once (automation needs a few per system, not thousands). */
export const MAX_TOKENS_PER_USER = 100;

@Injectable()
export class TokensService {
  /** Count then insert, one at a time, so concurrent requests cannot pass the cap together. */
  private readonly creating = new Mutex();

  constructor(
    @InjectRepository(ApiTokenEntity) private readonly tokens: Repository<ApiTokenEntity>,
    private readonly audit: AuditService,
  ) {}

  async list(): Promise<TokenResponseDto[]> {
    const tokens = await this.tokens.find({ order: { id: 'ASC' } });
    return tokens.map(toResponse);
  }

  create(dto: CreateTokenDto, caller: Caller): Promise<CreatedTokenResponseDto> {
    return this.creating.run(() => this.createOne(dto, caller));
  }

  private async createOne(dto: CreateTokenDto, caller: Caller): Promise<CreatedTokenResponseDto> {
    const ownerId = caller.actor.userId;
    if (ownerId === undefined) throw new ForbiddenError('only a user (or a token of one) can make a token');
    if ((await this.tokens.countBy({ ownerId })) >= MAX_TOKENS_PER_USER) {
      throw new ConflictError(
        `${caller.actor.username} already holds ${MAX_TOKENS_PER_USER} tokens, the most one user may; revoke one first`,
        'name',
      );
    }
    const secret = newTokenSecret();
    const token = await this.tokens.save(
      this.tokens.create({
        name: dto.name,
        role: dto.role,
        secretHash: hashTokenSecret(secret),
        createdBy: caller.actor.username,
        ownerId,
        lastUsedAt: null,
      }),
    );
    await this.audit.record({
      actor: caller.actor,
      sourceAddress: caller.sourceAddress,
      action: 'token.create',
      target: String(token.id),
      result: 'ok',
      detail: `"${token.name}", role ${token.role}`,
    });
    return { ...toResponse(token), token: formatToken(token.id, secret) };
  }

  async revoke(id: number, caller: Caller): Promise<void> {
    const token = await this.tokens.findOneBy({ id });
    if (!token) throw new NotFoundError('token', id);
    await this.tokens.delete({ id });
    await this.audit.record({
      actor: caller.actor,
      sourceAddress: caller.sourceAddress,
      action: 'token.revoke',
      target: String(token.id),
      result: 'ok',
      detail: `"${token.name}", role ${token.role}`,
    });
  }

  /**
   * The actor a bearer API token stands for, or null if it is unknown, revoked or wrong. Its role is the lesser of the
   * token's and its owner's now. Records its use unless `touch` is false (a re-check of a long-lived stream), at most
   * once per LAST_USED_RESOLUTION_MS: `lastUsedAt` is a time to the second, not a write per request.
   */
  async authenticate(presented: string, touch = true): Promise<Actor | null> {
    const parsed = parseToken(presented);
    if (!parsed) return null;
    // One statement: the token with its owner's role (findOne with the relation made two, and an entity graph).
    const token = await rawRow<TokenRow>(this.tokens, TOKEN_WITH_OWNER_ROLE, [parsed.id]);
    if (!token) return null;
    const check = await checkTokenSecret(parsed.secret, token.secretHash);
    if (check === 'invalid') return null;
    const now = new Date();
    const lastUsedAt = hydrated(this.tokens, 'lastUsedAt', token.lastUsedAt);
    const due = lastUsedAt === null || now.getTime() - lastUsedAt.getTime() >= LAST_USED_RESOLUTION_MS;
    if ((touch && due) || check === 'valid-rehash')
      await this.tokens.update(
        { id: token.id },
        check === 'valid-rehash'
          ? { lastUsedAt: now, secretHash: hashTokenSecret(parsed.secret) }
          : { lastUsedAt: now },
      );
    return {
      username: `token:${token.name}`,
      role: lesserRole(token.role, token.ownerRole),
      tokenId: token.id,
      userId: token.ownerId,
    };
  }
}

/** `lastUsedAt` is written when it is at least this old: a token used all the time costs no write per request. */
export const LAST_USED_RESOLUTION_MS = 1000;

interface TokenRow {
  id: number;
  name: string;
  role: Role;
  secretHash: string;
  ownerId: number;
  lastUsedAt: string | null;
  ownerRole: Role;
}

const TOKEN_WITH_OWNER_ROLE =
  'SELECT t."id", t."name", t."role", t."secretHash", t."ownerId", t."lastUsedAt", u."role" AS "ownerRole" ' +
  'FROM "api_tokens" t INNER JOIN "users" u ON u."id" = t."ownerId" WHERE t."id" = ?';

function toResponse(token: ApiTokenEntity): TokenResponseDto {
  return {
    id: token.id,
    name: token.name,
    role: token.role,
    createdBy: token.createdBy,
    createdAt: token.createdAt.toISOString(),
    lastUsedAt: token.lastUsedAt ? token.lastUsedAt.toISOString() : null,
  };
}
