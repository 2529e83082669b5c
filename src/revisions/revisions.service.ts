import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import type { ChangeContext } from '../common/change-context.js';
import type { ConfigChangeResponseDto, ValidateResponseDto } from '../config/config.dto.js';
import { ConfigService } from '../config/config.service.js';
import { normalizeSnapshot, type SnapshotInput } from '../config/normalize.js';
import { maskSnapshot } from '../config/secrets.js';
import { diffSnapshots } from '../config/snapshot-diff.js';
import { emptySnapshot, type Snapshot } from '../schema/snapshot.js';
import { getEntityOrThrow } from '../database/get-entity-or-throw.js';
import type {
  DiffQueryDto,
  ListRevisionsQueryDto,
  RevisionDiffDto,
  RevisionDto,
  RevisionListDto,
  RevisionSummaryDto,
} from './revision.dto.js';
import { RevisionEntity } from './revision.entity.js';

@Injectable()
export class RevisionsService {
  constructor(
    @InjectRepository(RevisionEntity) private readonly revisions: Repository<RevisionEntity>,
    private readonly config: ConfigService,
  ) {}

  async list(query: ListRevisionsQueryDto): Promise<RevisionListDto> {
    const limit = query.limit ?? 50;
    const offset = query.offset ?? 0;
    const [rows, total] = await Promise.all([
      this.revisions.find({
        select: { id: true, parentId: true, kind: true, author: true, message: true, createdAt: true },
        order: { id: 'DESC' },
        take: limit,
        skip: offset,
      }),
      this.revisions.count(),
    ]);
    return {
      items: rows.map((row) => this.toSummary(row)),
      total,
      head: this.config.revision,
      limit,
      offset,
    };
  }

  async get(id: number): Promise<RevisionDto> {
    const row = await getEntityOrThrow(this.revisions, { id }, 'revision', id);
    return { ...this.toSummary(row), snapshot: maskSnapshot(snapshotOf(row)) };
  }

  /** `against` → `id`; by default the revision's parent (or the empty config) → the revision. */
  async diff(id: number, query: DiffQueryDto): Promise<RevisionDiffDto> {
    const row = await getEntityOrThrow(this.revisions, { id }, 'revision', id);
    const from = query.against ?? row.parentId ?? 0;
    const before =
      from === 0
        ? emptySnapshot()
        : snapshotOf(await getEntityOrThrow(this.revisions, { id: from }, 'revision', from));
    const diff = diffSnapshots(before, snapshotOf(row), {
      before: `revision ${from}`,
      after: `revision ${id}`,
    });
    return { from, to: id, ...diff };
  }

  /** What rolling back to revision `id` would change and do to live traffic; changes nothing. */
  async validateRollback(id: number): Promise<ValidateResponseDto> {
    const row = await getEntityOrThrow(this.revisions, { id }, 'revision', id);
    return { valid: true, ...(await this.config.validateRollback(snapshotOf(row), id)) };
  }

  /** A new revision (kind rollback) whose snapshot equals revision `id`'s, through the same pipeline. */
  async rollback(id: number, context: ChangeContext): Promise<ConfigChangeResponseDto> {
    const row = await getEntityOrThrow(this.revisions, { id }, 'revision', id);
    const result = await this.config.commit(
      {
        context,
        action: 'revision.rollback',
        target: String(id),
        kind: 'rollback',
        message: `roll back to revision ${id}`,
      },
      () => ({ snapshot: snapshotOf(row) }),
    );
    return { revision: result.revision, changed: result.changed, ...maskSnapshot(result.snapshot) };
  }

  private toSummary(row: RevisionEntity): RevisionSummaryDto {
    return {
      id: row.id,
      parentId: row.parentId,
      kind: row.kind,
      author: row.author,
      message: row.message,
      createdAt: row.createdAt.toISOString(),
      current: row.id === this.config.revision,
    };
  }
}

function snapshotOf(row: RevisionEntity): Snapshot {
  return normalizeSnapshot(JSON.parse(row.snapshot) as SnapshotInput);
}
