import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { DataSource, Not, type Repository } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import type { ChangeContext } from '../common/change-context.js';
import { CommitError, NotFoundError, ValidationError } from '../common/errors.js';
import { ConfigService } from '../config/config.service.js';
import { RUNTIME } from '../runtime/runtime.module.js';
import type { AdminStateEntry, ProxyRuntimeApi } from '../runtime/types.js';
import type {
  ServerStateDto,
  ServerStateResponseDto,
  ShutdownSessionsDto,
  ShutdownSessionsResponseDto,
} from './backend.dto.js';
import { ServerStateEntity } from './server-state.entity.js';

/**
 * Admin states (ready / drain / maint): runtime state, persisted and audited but not part of any
 * snapshot, so no revision is made and a rollback never touches them. Kept by backend/server name,
 * also while the server is out of the config: every apply hands the stored states to the runtime with
 * the snapshot (ConfigService.useAdminStates), so at boot and when a server comes back into the config
 * it serves in its stored state from its first connection (docs/admin-states.md).
 */
@Injectable()
export class ServerStatesService implements OnModuleInit {
  private readonly logger = new Logger('ServerStates');

  constructor(
    @InjectRepository(ServerStateEntity) private readonly states: Repository<ServerStateEntity>,
    @Inject(RUNTIME) private readonly runtime: ProxyRuntimeApi,
    private readonly config: ConfigService,
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
  ) {}

  onModuleInit(): void {
    this.config.useAdminStates(() => this.stored());
  }

  /** Every stored state other than ready (ready is what the runtime assumes for an unlisted server). */
  private async stored(): Promise<AdminStateEntry[]> {
    const rows = await this.states.find({ where: { state: Not('ready') } });
    return rows.map((row) => ({ backend: row.backend, server: row.server, state: row.state }));
  }

  async setState(
    backend: string,
    server: string,
    dto: ServerStateDto,
    context: ChangeContext,
  ): Promise<ServerStateResponseDto> {
    if (dto.shutdownSessions && dto.state !== 'maint') {
      throw new ValidationError(
        `shutdownSessions is only allowed with state maint, not ${dto.state}`,
        'shutdownSessions',
      );
    }
    return this.config.serialize(async () => {
      this.config.assertCurrent(context.ifMatch);
      this.assertServer(backend, server);
      const result = await this.runtime.setServerState(backend, server, dto.state, {
        shutdownSessions: dto.shutdownSessions ?? false,
      });
      const detail =
        `${result.previous} → ${result.state}` +
        (dto.shutdownSessions ? `, ${result.sessionsClosed} session(s) closed` : '');
      try {
        await this.dataSource.transaction(async (manager) => {
          await manager.getRepository(ServerStateEntity).save({
            backend,
            server,
            state: dto.state,
            updatedAt: new Date(),
            updatedBy: context.actor.username,
          });
          await this.audit.recordWith(manager, {
            actor: context.actor,
            sourceAddress: context.sourceAddress,
            action: 'server.state',
            target: `${backend}/${server}`,
            result: 'ok',
            detail,
          });
        });
      } catch (error) {
        this.logger.error(
          `could not store the admin state of ${backend}/${server}: ${(error as Error).message}`,
        );
        await this.runtime.setServerState(backend, server, result.previous).catch(() => undefined);
        throw new CommitError(
          `the admin state could not be stored; ${backend}/${server} is back to ${result.previous}`,
        );
      }
      return { ...result, changed: result.previous !== result.state };
    });
  }

  /** One server's sessions; `graceful`: the lossless close on inspected frontends (docs/cmpp-session-control.md). */
  async shutdownSessions(
    backend: string,
    server: string,
    context: ChangeContext,
    graceful = false,
  ): Promise<ShutdownSessionsResponseDto> {
    this.config.assertCurrent(context.ifMatch);
    this.assertServer(backend, server);
    const closed = await this.runtime.shutdownSessions(backend, server, { graceful });
    await this.audit.record({
      actor: context.actor,
      sourceAddress: context.sourceAddress,
      action: 'server.shutdown-sessions',
      target: `${backend}/${server}`,
      result: 'ok',
      detail: `${closed} session(s) ${graceful ? 'closing gracefully' : 'closed'}`,
    });
    return { closed };
  }

  /** Every session of a backend, as shutdownSessions. */
  async shutdownBackendSessions(
    backend: string,
    context: ChangeContext,
    graceful = false,
  ): Promise<ShutdownSessionsResponseDto> {
    this.config.assertCurrent(context.ifMatch);
    if (!this.config.snapshot.backends.some((b) => b.name === backend))
      throw new NotFoundError('backend', backend);
    const closed = await this.runtime.shutdownSessions(backend, undefined, { graceful });
    await this.audit.record({
      actor: context.actor,
      sourceAddress: context.sourceAddress,
      action: 'backend.shutdown-sessions',
      target: backend,
      result: 'ok',
      detail: `${closed} session(s) ${graceful ? 'closing gracefully' : 'closed'}`,
    });
    return { closed };
  }

  private assertServer(backend: string, server: string): void {
    const found = this.config.snapshot.backends.find((b) => b.name === backend);
    if (!found) throw new NotFoundError('backend', backend);
    if (!found.servers.some((s) => s.name === server))
      throw new NotFoundError('server', `${backend}/${server}`);
  }
}

/**
 * `graceful` of a shutdown-sessions call, from the body and/or `?graceful=` (true/false/1/0). Both given must agree.
 */
export function gracefulOf(body: ShutdownSessionsDto | undefined, query: string | undefined): boolean {
  let fromQuery: boolean | undefined;
  if (query !== undefined) {
    if (query === 'true' || query === '1') fromQuery = true;
    else if (query === 'false' || query === '0') fromQuery = false;
    else throw new ValidationError(`graceful must be true or false, got "${query}"`, 'graceful');
  }
  const fromBody = body?.graceful;
  if (fromBody !== undefined && fromQuery !== undefined && fromBody !== fromQuery)
    throw new ValidationError('graceful differs between the body and the query', 'graceful');
  return fromBody ?? fromQuery ?? false;
}
