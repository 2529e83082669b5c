import { Inject, Injectable } from '@nestjs/common';
import { roleAllows } from '../auth/roles.js';
import type { ChangeContext } from '../common/change-context.js';
import { ConflictError, ForbiddenError, NotFoundError } from '../common/errors.js';
import type { CommitResultDto } from '../config/config.dto.js';
import { ConfigService, type CommitResult } from '../config/config.service.js';
import { mergePatch } from '../config/merge-patch.js';
import { normalizeBackend, normalizeServer } from '../config/normalize.js';
import { clearSecretsOf, keepStoredSecret } from '../config/secrets.js';
import type { Backend, Snapshot } from '../schema/snapshot.js';
import { RUNTIME } from '../runtime/runtime.module.js';
import type { ProxyRuntimeApi } from '../runtime/types.js';
import { toBackendResponse, toServerResponse, type ServerLive } from './backend-view.js';
import type {
  BackendChangeResponseDto,
  BackendResponseDto,
  CreateBackendDto,
  CreateServerDto,
  ReplaceBackendDto,
  ReplaceServerDto,
  ServerChangeResponseDto,
  ServerResponseDto,
  UpdateBackendDto,
  UpdateServerDto,
} from './backend.dto.js';

/** Backends and their servers: reads from the head (ConfigService.snapshot; the tables are only its
 *  store), every change through the config pipeline. */
@Injectable()
export class BackendsService {
  constructor(
    @Inject(RUNTIME) private readonly runtime: ProxyRuntimeApi,
    private readonly config: ConfigService,
  ) {}

  // ---- backends ----

  async list(): Promise<BackendResponseDto[]> {
    const backends = this.config.snapshot.backends;
    const live = await this.liveServers();
    return backends.map((backend) => toBackendResponse(backend, live));
  }

  async get(name: string): Promise<BackendResponseDto> {
    const head = this.config.snapshot;
    const backend = head.backends[backendIndex(head, name)];
    return toBackendResponse(backend, await this.liveServers());
  }

  async create(dto: CreateBackendDto, context: ChangeContext): Promise<BackendChangeResponseDto> {
    const result = await this.config.commit(
      {
        context,
        action: 'backend.create',
        target: dto.name,
        kind: 'change',
        message: `create backend ${dto.name}`,
      },
      (draft) => {
        draft.backends.push(normalizeBackend(dto));
        return { focus: `backends[${draft.backends.length - 1}]` };
      },
    );
    return this.backendChange(result, dto.name);
  }

  async replace(
    name: string,
    dto: ReplaceBackendDto,
    context: ChangeContext,
  ): Promise<BackendChangeResponseDto> {
    const newName = dto.name ?? name;
    const result = await this.config.commit(
      {
        context,
        action: 'backend.replace',
        target: name,
        kind: 'change',
        message: `replace backend ${name}`,
      },
      (draft) => {
        const index = backendIndex(draft, name);
        const current = draft.backends[index];
        const next = normalizeBackend({ ...dto, name: newName, servers: dto.servers ?? current.servers });
        return this.putBackend(draft, index, current, next, dto);
      },
    );
    return this.backendChange(result, newName);
  }

  async update(
    name: string,
    dto: UpdateBackendDto,
    context: ChangeContext,
  ): Promise<BackendChangeResponseDto> {
    const result = await this.config.commit(
      { context, action: 'backend.update', target: name, kind: 'change', message: `update backend ${name}` },
      (draft) => {
        const index = backendIndex(draft, name);
        const current = draft.backends[index];
        return this.putBackend(draft, index, current, normalizeBackend(mergePatch(current, dto)), dto);
      },
    );
    return this.backendChange(result, dto.name ?? name);
  }

  async remove(name: string, context: ChangeContext): Promise<CommitResultDto> {
    const result = await this.config.commit(
      { context, action: 'backend.delete', target: name, kind: 'change', message: `delete backend ${name}` },
      (draft) => {
        const index = backendIndex(draft, name);
        const user = draft.frontends.find((f) => f.backend === name);
        if (user)
          throw new ConflictError(`name: backend "${name}" is used by frontend "${user.name}"`, 'name');
        draft.backends.splice(index, 1);
      },
    );
    return { revision: result.revision, changed: result.changed };
  }

  /** Puts `next` in place of `current`: keeps a masked secret, and a rename carries the frontends along. */
  private putBackend(
    draft: Snapshot,
    index: number,
    current: Backend,
    next: Backend,
    dto: ReplaceBackendDto | UpdateBackendDto,
  ) {
    // A secret sent in clear counts as a change (no answer may tell whether it equalled the stored one).
    const clearSecret = clearSecretsOf([dto]).length > 0;
    keepStoredSecret(next.check, current.check, 'check.cmpp.secret');
    if (next.name !== current.name) {
      for (const frontend of draft.frontends) {
        if (frontend.backend === current.name) frontend.backend = next.name;
      }
    }
    draft.backends[index] = next;
    return { focus: `backends[${index}]`, clearSecret };
  }

  // ---- servers ----

  async listServers(backend: string): Promise<ServerResponseDto[]> {
    return (await this.get(backend)).servers;
  }

  async getServer(backend: string, server: string): Promise<ServerResponseDto> {
    const found = (await this.get(backend)).servers.find((s) => s.name === server);
    if (!found) throw new NotFoundError('server', `${backend}/${server}`);
    return found;
  }

  async createServer(
    backend: string,
    dto: CreateServerDto,
    context: ChangeContext,
  ): Promise<ServerChangeResponseDto> {
    const target = `${backend}/${dto.name}`;
    const result = await this.config.commit(
      { context, action: 'server.create', target, kind: 'change', message: `add server ${target}` },
      (draft) => {
        const index = backendIndex(draft, backend);
        const servers = draft.backends[index].servers;
        servers.push(normalizeServer(dto));
        return { focus: `backends[${index}].servers[${servers.length - 1}]` };
      },
    );
    return this.serverChange(result, backend, dto.name);
  }

  async replaceServer(
    backend: string,
    server: string,
    dto: ReplaceServerDto,
    context: ChangeContext,
  ): Promise<ServerChangeResponseDto> {
    const target = `${backend}/${server}`;
    const result = await this.config.commit(
      { context, action: 'server.replace', target, kind: 'change', message: `replace server ${target}` },
      (draft) => {
        const [b, s] = serverIndex(draft, backend, server);
        draft.backends[b].servers[s] = normalizeServer({ ...dto, name: dto.name ?? server });
        return { focus: `backends[${b}].servers[${s}]` };
      },
    );
    return this.serverChange(result, backend, dto.name ?? server);
  }

  /** The operator role may change the weight only; anything else needs admin. */
  async updateServer(
    backend: string,
    server: string,
    dto: UpdateServerDto,
    context: ChangeContext,
  ): Promise<ServerChangeResponseDto> {
    const fields = Object.entries(dto)
      .filter(([, value]) => value !== undefined)
      .map(([key]) => key);
    const other = fields.find((field) => field !== 'weight');
    if (other && !roleAllows(context.actor.role, 'admin')) {
      throw new ForbiddenError(
        `${other}: the ${context.actor.role} role may change a server's weight only`,
        other,
      );
    }
    const target = `${backend}/${server}`;
    const weightOnly = fields.length === 1 && fields[0] === 'weight';
    const result = await this.config.commit(
      {
        context,
        action: weightOnly ? 'server.weight' : 'server.update',
        target,
        kind: 'change',
        message: weightOnly ? `set weight of ${target} to ${dto.weight}` : `update server ${target}`,
      },
      (draft) => {
        const [b, s] = serverIndex(draft, backend, server);
        draft.backends[b].servers[s] = normalizeServer(mergePatch(draft.backends[b].servers[s], dto));
        return { focus: `backends[${b}].servers[${s}]` };
      },
    );
    return this.serverChange(result, backend, dto.name ?? server);
  }

  async removeServer(backend: string, server: string, context: ChangeContext): Promise<CommitResultDto> {
    const target = `${backend}/${server}`;
    const result = await this.config.commit(
      { context, action: 'server.delete', target, kind: 'change', message: `remove server ${target}` },
      (draft) => {
        const [b, s] = serverIndex(draft, backend, server);
        draft.backends[b].servers.splice(s, 1);
      },
    );
    return { revision: result.revision, changed: result.changed };
  }

  // ---- responses ----

  private async backendChange(result: CommitResult, name: string): Promise<BackendChangeResponseDto> {
    const backend = result.snapshot.backends.find((b) => b.name === name) as Backend;
    const response = toBackendResponse(backend, await this.liveServers());
    return { ...response, revision: result.revision, changed: result.changed };
  }

  private async serverChange(
    result: CommitResult,
    backend: string,
    name: string,
  ): Promise<ServerChangeResponseDto> {
    const server = result.snapshot.backends
      .find((b) => b.name === backend)
      ?.servers.find((s) => s.name === name);
    if (!server) throw new NotFoundError('server', `${backend}/${name}`);
    const response = toServerResponse(backend, server, await this.liveServers());
    return { ...response, revision: result.revision, changed: result.changed };
  }

  /** States only (no counters): with worker processes, no worker is asked (ProxyRuntimeApi.serverStates). */
  private async liveServers(): Promise<ServerLive> {
    const states = await this.runtime.serverStates();
    return new Map(states.map((s) => [`${s.backend}/${s.server}`, s]));
  }
}

function backendIndex(snapshot: Snapshot, name: string): number {
  const index = snapshot.backends.findIndex((b) => b.name === name);
  if (index < 0) throw new NotFoundError('backend', name);
  return index;
}

function serverIndex(snapshot: Snapshot, backend: string, server: string): [number, number] {
  const b = backendIndex(snapshot, backend);
  const s = snapshot.backends[b].servers.findIndex((x) => x.name === server);
  if (s < 0) throw new NotFoundError('server', `${backend}/${server}`);
  return [b, s];
}
