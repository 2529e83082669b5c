import { Inject, Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import type { ChangeContext } from '../common/change-context.js';
import { NotFoundError } from '../common/errors.js';
import { ConfigService } from '../config/config.service.js';
import { RUNTIME } from '../runtime/runtime.module.js';
import type { ProxyRuntimeApi, SessionInfo } from '../runtime/types.js';
import {
  SESSIONS_LIMIT_DEFAULT,
  type SessionList,
  type SessionResponseDto,
  type SessionsQueryDto,
} from './dto/session.dto.js';

@Injectable()
export class SessionsService {
  constructor(
    @Inject(RUNTIME) private readonly runtime: ProxyRuntimeApi,
    private readonly audit: AuditService,
    private readonly config: ConfigService,
  ) {}

  /** Live sessions, oldest first, with their age and idle time: at most `limit` of them, and how many matched. */
  async list(filter: SessionsQueryDto = {}): Promise<SessionList> {
    const now = Date.now();
    const matching = (await this.runtime.sessions())
      .filter(
        (s) =>
          (filter.backend === undefined || s.backend === filter.backend) &&
          (filter.server === undefined || s.server === filter.server) &&
          (filter.frontend === undefined || s.frontend === filter.frontend),
      )
      .sort((a, b) => a.startedAt - b.startedAt || a.id.localeCompare(b.id));
    const items = matching.slice(0, filter.limit ?? SESSIONS_LIMIT_DEFAULT).map((s) => toResponse(s, now));
    return { items, total: matching.length };
  }

  /** Closes one session (client and server side). Unknown or already gone: NotFoundError, which the
   *  @Audited route records as failed; success is recorded here, where the session's details are known. */
  async kill(id: string, change: ChangeContext): Promise<void> {
    this.config.assertCurrent(change.ifMatch);
    const session = (await this.runtime.sessions()).find((s) => s.id === id);
    if (!(await this.runtime.killSession(id))) throw new NotFoundError('session', id);
    await this.audit.record({
      actor: change.actor,
      sourceAddress: change.sourceAddress,
      action: 'session.kill',
      target: id,
      result: 'ok',
      detail: session
        ? `${session.clientAddress}:${session.clientPort} via ${session.frontend} to ${session.backend}/${session.server ?? '-'}`
        : undefined,
    });
  }
}

function toResponse(session: SessionInfo, now: number): SessionResponseDto {
  return {
    ...session,
    ageMs: Math.max(0, now - session.startedAt),
    idleMs: Math.max(0, now - session.lastActiveAt),
  };
}
