// Entities and snapshot items as the API shows them: secrets masked, live admin state and health added.
import { maskCheck } from '../config/secrets.js';
import { normalizeBackend, normalizeServer } from '../config/normalize.js';
import type { Backend, Server } from '../schema/snapshot.js';
import type { ServerStats } from '../runtime/types.js';
import type { BackendResponseDto, ServerResponseDto } from './backend.dto.js';
import type { BackendEntity } from './backend.entity.js';
import type { ServerEntity } from './server.entity.js';

/** Live server facts keyed `backend/server`. */
export type ServerLive = Map<string, ServerStats>;

export function backendFromEntity(row: BackendEntity): Backend {
  const servers = [...(row.servers ?? [])].sort((a, b) => a.position - b.position);
  return normalizeBackend({ ...row, servers: servers.map(serverFromEntity) });
}

export function serverFromEntity(row: ServerEntity): Server {
  return normalizeServer({
    name: row.name,
    address: row.address,
    port: row.port,
    weight: row.weight,
    maxconn: row.maxconn,
    backup: row.backup,
    check: row.check,
  });
}

export function toBackendResponse(backend: Backend, live: ServerLive): BackendResponseDto {
  return {
    ...backend,
    check: maskCheck(backend.check),
    servers: backend.servers.map((server) => toServerResponse(backend.name, server, live)),
  };
}

export function toServerResponse(backend: string, server: Server, live: ServerLive): ServerResponseDto {
  const stats = live.get(`${backend}/${server.name}`);
  const response: ServerResponseDto = { ...server, adminState: stats?.adminState ?? 'ready' };
  if (stats) {
    response.health = stats.health;
    response.status = stats.status;
  }
  return response;
}
