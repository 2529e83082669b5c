import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import type { ChangeContext } from '../common/change-context.js';
import { NotFoundError } from '../common/errors.js';
import type { CommitResultDto } from '../config/config.dto.js';
import { ConfigService, type CommitResult } from '../config/config.service.js';
import { mergePatch } from '../config/merge-patch.js';
import { normalizeFrontend } from '../config/normalize.js';
import type { Frontend, Snapshot } from '../schema/snapshot.js';
import { getEntityOrThrow } from '../database/get-entity-or-throw.js';
import { RUNTIME } from '../runtime/runtime.module.js';
import type { FrontendStats, ProxyRuntimeApi } from '../runtime/types.js';
import type {
  CreateFrontendDto,
  FrontendChangeResponseDto,
  FrontendResponseDto,
  ReplaceFrontendDto,
  UpdateFrontendDto,
} from './frontend.dto.js';
import { FrontendEntity } from './frontend.entity.js';

@Injectable()
export class FrontendsService {
  constructor(
    @InjectRepository(FrontendEntity) private readonly frontends: Repository<FrontendEntity>,
    @Inject(RUNTIME) private readonly runtime: ProxyRuntimeApi,
    private readonly config: ConfigService,
  ) {}

  async list(): Promise<FrontendResponseDto[]> {
    const [rows, stats] = await Promise.all([
      this.frontends.find({ order: { position: 'ASC' } }),
      this.liveStats(),
    ]);
    return rows.map((row) => toResponse(fromEntity(row), stats.get(row.name)));
  }

  async get(name: string): Promise<FrontendResponseDto> {
    const row = await getEntityOrThrow(this.frontends, { name }, 'frontend', name);
    return toResponse(fromEntity(row), (await this.liveStats()).get(name));
  }

  async create(dto: CreateFrontendDto, context: ChangeContext): Promise<FrontendChangeResponseDto> {
    const result = await this.config.commit(
      {
        context,
        action: 'frontend.create',
        target: dto.name,
        kind: 'change',
        message: `create frontend ${dto.name}`,
      },
      (draft) => {
        draft.frontends.push(normalizeFrontend(dto));
        return { focus: `frontends[${draft.frontends.length - 1}]` };
      },
    );
    return this.changeResponse(result, dto.name);
  }

  async replace(
    name: string,
    dto: ReplaceFrontendDto,
    context: ChangeContext,
  ): Promise<FrontendChangeResponseDto> {
    const result = await this.config.commit(
      {
        context,
        action: 'frontend.replace',
        target: name,
        kind: 'change',
        message: `replace frontend ${name}`,
      },
      (draft) => {
        const index = indexOf(draft, name);
        draft.frontends[index] = normalizeFrontend({ ...dto, name: dto.name ?? name });
        return { focus: `frontends[${index}]` };
      },
    );
    return this.changeResponse(result, dto.name ?? name);
  }

  async update(
    name: string,
    dto: UpdateFrontendDto,
    context: ChangeContext,
  ): Promise<FrontendChangeResponseDto> {
    const result = await this.config.commit(
      {
        context,
        action: 'frontend.update',
        target: name,
        kind: 'change',
        message: `update frontend ${name}`,
      },
      (draft) => {
        const index = indexOf(draft, name);
        draft.frontends[index] = normalizeFrontend(mergePatch(draft.frontends[index], dto));
        return { focus: `frontends[${index}]` };
      },
    );
    return this.changeResponse(result, dto.name ?? name);
  }

  async remove(name: string, context: ChangeContext): Promise<CommitResultDto> {
    const result = await this.config.commit(
      {
        context,
        action: 'frontend.delete',
        target: name,
        kind: 'change',
        message: `delete frontend ${name}`,
      },
      (draft) => {
        draft.frontends.splice(indexOf(draft, name), 1);
      },
    );
    return { revision: result.revision, changed: result.changed };
  }

  private async changeResponse(result: CommitResult, name: string): Promise<FrontendChangeResponseDto> {
    const frontend = result.snapshot.frontends.find((f) => f.name === name) as Frontend;
    const response = toResponse(frontend, (await this.liveStats()).get(name));
    return { ...response, revision: result.revision, changed: result.changed };
  }

  private async liveStats(): Promise<Map<string, FrontendStats>> {
    const stats = await this.runtime.stats();
    return new Map(stats.frontends.map((f) => [f.name, f]));
  }
}

function indexOf(snapshot: Snapshot, name: string): number {
  const index = snapshot.frontends.findIndex((f) => f.name === name);
  if (index < 0) throw new NotFoundError('frontend', name);
  return index;
}

function fromEntity(row: FrontendEntity): Frontend {
  return normalizeFrontend({
    name: row.name,
    bind: { address: row.bindAddress, port: row.bindPort },
    backend: row.backend,
    maxconn: row.maxconn,
    allow: row.allow,
    inspect: row.inspect,
    enabled: row.enabled,
  });
}

function toResponse(frontend: Frontend, stats: FrontendStats | undefined): FrontendResponseDto {
  const response: FrontendResponseDto = { ...frontend, status: stats?.status ?? 'UNKNOWN' };
  if (stats?.error) response.error = stats.error;
  return response;
}
