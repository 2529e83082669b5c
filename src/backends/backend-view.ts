// Snapshot items as the API shows them: secrets masked, live admin state and health added.
import { maskCheck } from '../config/secrets.js';
import type { Backend, Server } from '../schema/snapshot.js';
import type { ServerState } from '../runtime/types.js';
import type { BackendResponseDto, ServerResponseDto } from './backend.dto.js';

/** Live server states keyed `backend/server`. */
export type ServerLive = Map<string, ServerState>;

export function toBackendResponse(head: Backend, live: ServerLive): BackendResponseDto {
  // A copy: the head is shared and never handed out to be changed.
  const backend = structuredClone(head);
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
