import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { DataSource, type Repository } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import type { ChangeContext } from '../common/change-context.js';
import { CommitError, NotFoundError, ValidationError, type ErrorEntry } from '../common/errors.js';
import { ConfigService } from '../config/config.service.js';
import { RUNTIME } from '../runtime/runtime.module.js';
import type { AdminStateEntry, ProxyRuntimeApi } from '../runtime/types.js';
import type {
  ServerStateDto,
  ServerStateResponseDto,
  ShutdownSessionsDto,
  ShutdownSessionsResponseDto,
} from './backend.dto.js';
import {
  describeDrain,
  drainColumns,
  drainFromColumns,
  isOperation,
  newDrain,
  type DrainRecord,
} from './drain-operation.js';
import { DRAIN_ACTOR, DRAIN_SOURCE, DrainsService, publicFields } from './drains.service.js';
import { ServerStateEntity } from './server-state.entity.js';
import { EventLogService } from '../events/event-log.service.js';

/**
 * Admin states (ready / drain / maint): runtime state, persisted and audited but not part of any
 * snapshot, so no revision is made and a rollback never touches them. Kept by backend/server name,
 * also while the server is out of the config: every apply hands the stored states to the runtime with
 * the snapshot (ConfigService.useAdminStates), so at boot and when a server comes back into the config
 * it serves in its stored state from its first connection (docs/admin-states.md).
 * A drain is stored with its operation (deadline, `then`), which DrainsService carries out; every new state of a
 * server replaces the operation it had (docs/cmpp-session-control.md, "Drains").
 */
@Injectable()
export class ServerStatesService implements OnModuleInit, OnApplicationBootstrap {
  private readonly logger = new Logger('ServerStates');

  constructor(
    @InjectRepository(ServerStateEntity) private readonly states: Repository<ServerStateEntity>,
    @Inject(RUNTIME) private readonly runtime: ProxyRuntimeApi,
    private readonly config: ConfigService,
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly drains: DrainsService,
    private readonly events: EventLogService,
  ) {}

  onModuleInit(): void {
    this.config.useAdminStates(() => this.stored());
    this.drains.useFinisher((record, isCurrent) => this.finishDrain(record, isCurrent));
  }

  /** Drains go on after a restart: their operations from the store, deadlines absolute (startedAt + deadline). */
  async onApplicationBootstrap(): Promise<void> {
    const rows = await this.states.find({ where: { state: 'drain' } });
    for (const row of rows) this.drains.set(row.backend, row.server, drainFromColumns(row));
  }

  /** Every stored state other than ready (ready is what the runtime assumes for an unlisted server). */
  private async stored(): Promise<AdminStateEntry[]> {
    // Read before every apply: three plain columns, no entities to build (the other five are not needed).
    return (await this.states.manager.query(
      `SELECT "backend", "server", "state" FROM "server_admin_states" WHERE "state" != 'ready'`,
    )) as AdminStateEntry[];
  }

  async setState(
    backend: string,
    server: string,
    dto: ServerStateDto,
    context: ChangeContext,
  ): Promise<ServerStateResponseDto> {
    assertFieldsOfState(dto);
    return this.config.serialize(async () => {
      this.config.assertCurrent(context.ifMatch);
      this.assertServer(backend, server);
      const replaced = this.drains.get(backend, server);
      const drain = dto.state === 'drain' ? this.drainOf(backend, server, dto, replaced) : null;
      const result = await this.runtime.setServerState(backend, server, dto.state, {
        shutdownSessions: dto.shutdownSessions ?? false,
      });
      const detail =
        `${result.previous} → ${result.state}` +
        (drain && isOperation(drain) ? ` (${describeDrain(drain)})` : '') +
        (replaced && isOperation(replaced) ? `, replaces the ${describeDrain(replaced)}` : '') +
        (dto.shutdownSessions ? `, ${result.sessionsClosed} session(s) closed` : '');
      try {
        await this.dataSource.transaction(async (manager) => {
          await manager.getRepository(ServerStateEntity).save({
            backend,
            server,
            state: dto.state,
            updatedAt: new Date(),
            updatedBy: context.actor.username,
            ...drainColumns(drain),
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
      this.drains.set(backend, server, drain);
      return {
        ...result,
        // A plain drain of a plain drain changes nothing; starting or replacing an operation does.
        changed:
          result.previous !== result.state ||
          (drain !== null && isOperation(drain)) ||
          (replaced !== undefined && isOperation(replaced)),
        ...(drain
          ? { drain: { startedAt: drain.startedAt, deadlineAt: drain.deadlineAt, then: drain.then } }
          : {}),
      };
    });
  }

  /**
   * The drain a request starts: an operation when it gives a deadline or a `then`. Asking for a plain drain of a server
   * already draining keeps when that drain started (it only cancels the operation it had).
   */
  private drainOf(
    backend: string,
    server: string,
    dto: ServerStateDto,
    replaced: DrainRecord | undefined,
  ): DrainRecord {
    const now = Date.now();
    const drain = newDrain(backend, server, now, dto.deadline, dto.then);
    if (!isOperation(drain) && replaced !== undefined) drain.startedAt = replaced.startedAt;
    return drain;
  }

  /**
   * A drain operation whose server has no session left: the server moves to `then` (maint), or the operation just
   * ends and the server stays drain. Audited and logged as the system's doing; skipped when a newer state of the
   * server replaced the operation meanwhile.
   */
  private finishDrain(record: DrainRecord, isCurrent: () => boolean): Promise<void> {
    const { backend, server } = record;
    return this.config.serialize(async () => {
      if (!isCurrent()) return;
      const target = `${backend}/${server}`;
      const next = record.then === 'maint' ? 'maint' : 'drain';
      const plain = next === 'drain' ? { ...record, deadlineAt: null, then: null } : null;
      const result = await this.runtime.setServerState(backend, server, next);
      const how =
        record.closedAt === null
          ? 'no session left'
          : `no session left after the deadline closed ${record.closed}`;
      const detail =
        next === 'maint'
          ? `drain → maint: ${describeDrain(record)} done (${how})`
          : `drain → drain: ${describeDrain(record)} done (${how}); it stays drain`;
      try {
        await this.dataSource.transaction(async (manager) => {
          await manager.getRepository(ServerStateEntity).save({
            backend,
            server,
            state: next,
            updatedAt: new Date(),
            updatedBy: DRAIN_ACTOR.username,
            ...drainColumns(plain),
          });
          await this.audit.recordWith(manager, {
            actor: DRAIN_ACTOR,
            sourceAddress: DRAIN_SOURCE,
            action: 'server.state',
            target,
            result: 'ok',
            detail,
          });
        });
      } catch (error) {
        // Not stored: back to drain with the operation, which tries again at its next look.
        await this.runtime.setServerState(backend, server, result.previous).catch(() => undefined);
        throw error;
      }
      this.drains.set(backend, server, plain);
      this.logger.log(`${target}: ${detail}`);
      this.events.record({
        type: 'drain',
        backend,
        server,
        text: `${target}: drain done (${how}) → ${next.toUpperCase()}`,
        detail: { step: 'end', to: next, ...publicFields(record) },
      });
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

/** shutdownSessions only with maint, deadline and then only with drain: every offending field named, nothing changed. */
function assertFieldsOfState(dto: ServerStateDto): void {
  const problems: ErrorEntry[] = [];
  const only = (field: string, state: string) =>
    problems.push({
      field,
      code: 'VALIDATION_FAILED',
      message: `${field} is only allowed with state ${state}, not ${dto.state}`,
    });
  if (dto.shutdownSessions && dto.state !== 'maint') only('shutdownSessions', 'maint');
  if (dto.deadline !== undefined && dto.state !== 'drain') only('deadline', 'drain');
  if (dto.then !== undefined && dto.state !== 'drain') only('then', 'drain');
  if (problems.length > 0) throw new ValidationError(problems[0].message, problems[0].field, problems);
}

/**
 * `graceful` of a shutdown-sessions call, from the body and/or `?graceful=` (true/false/1/0). Both given must agree;
 * a null in the body is refused (as a drain's null deadline).
 */
export function gracefulOf(body: ShutdownSessionsDto | undefined, query: string | undefined): boolean {
  let fromQuery: boolean | undefined;
  if (query !== undefined) {
    if (query === 'true' || query === '1') fromQuery = true;
    else if (query === 'false' || query === '0') fromQuery = false;
    else throw new ValidationError(`graceful must be true or false, got "${query}"`, 'graceful');
  }
  const fromBody = body?.graceful;
  // null is refused, not taken for "left out": it would cut sessions (and maybe double SMS) on a malformed ask.
  if (fromBody === null) throw new ValidationError('graceful must be true or false, got null', 'graceful');
  if (fromBody !== undefined && fromQuery !== undefined && fromBody !== fromQuery)
    throw new ValidationError('graceful differs between the body and the query', 'graceful');
  return fromBody ?? fromQuery ?? false;
}
