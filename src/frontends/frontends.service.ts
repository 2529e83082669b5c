import { Inject, Injectable } from '@nestjs/common';
import type { ChangeContext } from '../common/change-context.js';
import { ApplyError, ConflictError, NotFoundError } from '../common/errors.js';
import { AuditService } from '../audit/audit.service.js';
import type { CommitResultDto } from '../config/config.dto.js';
import { ConfigService, type CommitResult } from '../config/config.service.js';
import { mergePatch } from '../config/merge-patch.js';
import { normalizeFrontend, patchBinds, type FrontendInput } from '../config/normalize.js';
import type { Frontend, Snapshot } from '../schema/snapshot.js';
import { RuntimeError } from '../runtime/errors.js';
import { RUNTIME } from '../runtime/runtime.module.js';
import type { FrontendStats, ProxyRuntimeApi } from '../runtime/types.js';
import type {
  CreateFrontendDto,
  FrontendChangeResponseDto,
  FrontendResponseDto,
  ReplaceFrontendDto,
  UpdateFrontendDto,
} from './frontend.dto.js';

/** Frontends: reads from the head (ConfigService.snapshot; the tables are only its store), every change
 *  through the config pipeline. */
@Injectable()
export class FrontendsService {
  constructor(
    @Inject(RUNTIME) private readonly runtime: ProxyRuntimeApi,
    private readonly config: ConfigService,
    private readonly audit: AuditService,
  ) {}

  async list(): Promise<FrontendResponseDto[]> {
    const frontends = this.config.snapshot.frontends;
    const stats = await this.liveStats();
    return frontends.map((frontend) => toResponse(frontend, stats.get(frontend.name)));
  }

  async get(name: string): Promise<FrontendResponseDto> {
    const head = this.config.snapshot;
    const frontend = head.frontends[indexOf(head, name)];
    return toResponse(frontend, (await this.liveStats()).get(name));
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
        draft.frontends[index] = normalizeFrontend(
          mergePatch(draft.frontends[index], patchBinds(draft.frontends[index], dto as FrontendInput)),
        );
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

  /**
   * Tries the bind of a FAILED frontend now (it also retries by itself, with backoff). 409 with the
   * errno when it still can't bind, 409 when it isn't FAILED.
   */
  async retry(name: string, context: ChangeContext): Promise<FrontendResponseDto> {
    return this.config.serialize(async () => {
      const frontend = this.config.snapshot.frontends.find((f) => f.name === name);
      if (!frontend) throw new NotFoundError('frontend', name);
      let stats: FrontendStats;
      try {
        stats = await this.runtime.retryFrontend(name);
      } catch (error) {
        throw retryError(error, name);
      }
      await this.audit.record({
        actor: context.actor,
        sourceAddress: context.sourceAddress,
        action: 'frontend.retry',
        target: name,
        result: 'ok',
        detail: `listens on ${stats.bind.address}:${stats.bind.port}`,
      });
      return toResponse(frontend, stats);
    });
  }

  private async changeResponse(result: CommitResult, name: string): Promise<FrontendChangeResponseDto> {
    const frontend = result.snapshot.frontends.find((f) => f.name === name) as Frontend;
    const response = toResponse(frontend, (await this.liveStats()).get(name));
    return { ...response, revision: result.revision, changed: result.changed };
  }

  private async liveStats(): Promise<Map<string, FrontendStats>> {
    const stats = await this.runtime.stats({ cmppAccounts: false });
    return new Map(stats.frontends.map((f) => [f.name, f]));
  }
}

function retryError(error: unknown, name: string): Error {
  if (!(error instanceof RuntimeError)) return error as Error;
  switch (error.code) {
    case 'BIND_FAILED':
      return new ApplyError(`bind: ${error.message}`, 'bind', error.cause_code);
    case 'NOT_FAILED':
      return new ConflictError(
        `frontend "${name}" is not FAILED (it listens or is disabled): there is no bind to retry`,
      );
    case 'UNKNOWN_FRONTEND':
      return new NotFoundError('frontend', name);
    default:
      return error;
  }
}

function indexOf(snapshot: Snapshot, name: string): number {
  const index = snapshot.frontends.findIndex((f) => f.name === name);
  if (index < 0) throw new NotFoundError('frontend', name);
  return index;
}

function toResponse(frontend: Frontend, stats: FrontendStats | undefined): FrontendResponseDto {
  // A copy: the head is shared and never handed out to be changed.
  const response: FrontendResponseDto = { ...structuredClone(frontend), status: stats?.status ?? 'UNKNOWN' };
  if (stats?.error) response.error = stats.error;
  if (stats?.retry) response.retry = stats.retry;
  return response;
}
