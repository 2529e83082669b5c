import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { AuditService, type AuditActor } from '../audit/audit.service.js';
import { RUNTIME } from '../runtime/runtime.module.js';
import type { ProxyRuntimeApi, RuntimeEvent } from '../runtime/types.js';

/** The actor of what the appliance does by itself. */
const APPLIANCE: AuditActor = { username: 'tether', role: 'none' };

/**
 * Audits a FAILED frontend that opens by itself (its backoff retry) or with an apply
 * (`frontend.open`); an operator's retry is audited by its route (`frontend.retry`).
 */
@Injectable()
export class FrontendOpenAudit implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('Frontends');
  private unsubscribe: (() => void) | undefined;

  constructor(
    @Inject(RUNTIME) private readonly runtime: ProxyRuntimeApi,
    private readonly audit: AuditService,
  ) {}

  onModuleInit(): void {
    this.unsubscribe = this.runtime.onEvent((event) => this.onEvent(event));
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
  }

  private onEvent(event: RuntimeEvent): void {
    if (event.type !== 'frontend-open' || event.trigger === 'retry') return;
    const how = event.trigger === 'backoff' ? `after ${event.attempts} bind attempt(s)` : 'with a change';
    this.logger.log(`frontend "${event.frontend}" listens on ${event.address}:${event.port} ${how}`);
    void this.audit.record({
      actor: APPLIANCE,
      action: 'frontend.open',
      target: event.frontend,
      result: 'ok',
      detail: `listens on ${event.address}:${event.port} ${how}`,
    });
  }
}
