import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import {
  Between,
  LessThanOrEqual,
  MoreThanOrEqual,
  type EntityManager,
  type FindOptionsWhere,
  type Repository,
} from 'typeorm';
import type { Role } from '../auth/roles.js';
import { AuditEventEntity, type AuditResult } from './audit-event.entity.js';
import type { AuditEventDto, AuditListDto, AuditQueryDto } from './audit.dto.js';

/** Who acted; `none` for a caller that never authenticated (a failed or throttled login). */
export interface AuditActor {
  username: string;
  role: Role | 'none';
}
export const UNAUTHENTICATED: AuditActor = { username: 'anonymous', role: 'none' };

export interface AuditEntry {
  actor: AuditActor;
  sourceAddress?: string;
  /** Dotted verb, e.g. `frontend.create`, `server.state`, `auth.login`. */
  action: string;
  /** What was acted on, e.g. `frontend/cmpp`, `backend/ismg/server/gw1`. */
  target?: string;
  result: AuditResult;
  detail?: string;
  revisionId?: number;
}

@Injectable()
export class AuditService {
  private readonly logger = new Logger('Audit');

  constructor(@InjectRepository(AuditEventEntity) private readonly events: Repository<AuditEventEntity>) {}

  /** Appends one event. Never throws: a failing audit write is logged, not turned into a failed request. */
  async record(entry: AuditEntry): Promise<void> {
    try {
      await this.events.insert(toEntity(entry));
    } catch (error) {
      this.logger.error(
        `could not record ${entry.action} by ${entry.actor.username}: ${(error as Error).message}`,
      );
    }
  }

  /** Appends one event inside the caller's transaction (it commits or rolls back with the change). */
  async recordWith(manager: EntityManager, entry: AuditEntry): Promise<void> {
    await manager.getRepository(AuditEventEntity).insert(toEntity(entry));
  }

  async list(query: AuditQueryDto): Promise<AuditListDto> {
    const where: FindOptionsWhere<AuditEventEntity> = {};
    if (query.user) where.actor = query.user;
    if (query.action) where.action = query.action;
    if (query.result) where.result = query.result;
    if (query.from && query.to) where.at = Between(new Date(query.from), new Date(query.to));
    else if (query.from) where.at = MoreThanOrEqual(new Date(query.from));
    else if (query.to) where.at = LessThanOrEqual(new Date(query.to));
    const [rows, total] = await Promise.all([
      this.events.find({ where, order: { id: 'DESC' }, take: query.limit ?? 100, skip: query.offset ?? 0 }),
      this.events.count({ where }),
    ]);
    return { items: rows.map(toDto), total };
  }
}

function toEntity(entry: AuditEntry): Partial<AuditEventEntity> {
  return {
    at: new Date(),
    actor: entry.actor.username,
    role: entry.actor.role,
    sourceAddress: entry.sourceAddress ?? null,
    action: entry.action,
    target: entry.target ?? null,
    result: entry.result,
    detail: entry.detail ?? null,
    revisionId: entry.revisionId ?? null,
  };
}

function toDto(row: AuditEventEntity): AuditEventDto {
  return {
    id: row.id,
    at: row.at.toISOString(),
    actor: row.actor,
    role: row.role,
    sourceAddress: row.sourceAddress ?? undefined,
    action: row.action,
    target: row.target ?? undefined,
    result: row.result,
    detail: row.detail ?? undefined,
    revisionId: row.revisionId ?? undefined,
  };
}
