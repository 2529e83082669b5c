import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { createHash } from 'node:crypto';
import { Repository } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import { NotFoundError } from '../common/errors.js';
import type { Caller } from '../auth/caller.js';
import type { Actor } from '../auth/roles.js';
import { hashSecret, verifySecret } from '../auth/secret-hash.js';
import { ApiTokenEntity } from './api-token.entity.js';
import { CreateTokenDto, CreatedTokenResponseDto, TokenResponseDto } from './dto/token.dto.js';
import { formatToken, newTokenSecret, parseToken } from './token-format.js';

@Injectable()
export class TokensService {
  /**
   * Token id → SHA-256 of the secret already verified against its scrypt hash, so automation polling every second
   * does not pay for scrypt on each call. Only a row still in the database is ever accepted: revocation deletes the
   * row (and this entry), so it takes effect on the very next request.
   */
  private readonly verified = new Map<number, string>();

  constructor(
    @InjectRepository(ApiTokenEntity) private readonly tokens: Repository<ApiTokenEntity>,
    private readonly audit: AuditService,
  ) {}

  async list(): Promise<TokenResponseDto[]> {
    const tokens = await this.tokens.find({ order: { id: 'ASC' } });
    return tokens.map(toResponse);
  }

  async create(dto: CreateTokenDto, caller: Caller): Promise<CreatedTokenResponseDto> {
    const secret = newTokenSecret();
    const token = await this.tokens.save(
      this.tokens.create({
        name: dto.name,
        role: dto.role,
        secretHash: await hashSecret(secret),
        createdBy: caller.actor.username,
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
    this.verified.delete(id);
    await this.audit.record({
      actor: caller.actor,
      sourceAddress: caller.sourceAddress,
      action: 'token.revoke',
      target: String(token.id),
      result: 'ok',
      detail: `"${token.name}", role ${token.role}`,
    });
  }

  /** The actor a bearer API token stands for, or null if it is unknown, revoked or wrong. Records its use. */
  async authenticate(presented: string): Promise<Actor | null> {
    const parsed = parseToken(presented);
    if (!parsed) return null;
    const token = await this.tokens.findOneBy({ id: parsed.id });
    if (!token) {
      this.verified.delete(parsed.id);
      return null;
    }
    const fingerprint = createHash('sha256').update(parsed.secret).digest('hex');
    if (this.verified.get(token.id) !== fingerprint) {
      if (!(await verifySecret(parsed.secret, token.secretHash))) return null;
      this.verified.set(token.id, fingerprint);
    }
    await this.tokens.update({ id: token.id }, { lastUsedAt: new Date() });
    return { username: `token:${token.name}`, role: token.role, tokenId: token.id };
  }
}

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
