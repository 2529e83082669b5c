import { Inject, Module, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { RUNTIME } from '../runtime/runtime.module.js';
import type { ProxyRuntimeApi } from '../runtime/types.js';
import { SETTINGS, type Settings } from '../settings.js';
import { SessionLog } from './session-log.js';

/** Connects the runtime's ended sessions to the session log (docs/session-logs.md). */
@Module({})
export class SessionLogModule implements OnModuleInit, OnApplicationShutdown {
  private log: SessionLog | null = null;
  private unsubscribe: (() => void) | null = null;

  constructor(
    @Inject(RUNTIME) private readonly runtime: ProxyRuntimeApi,
    @Inject(SETTINGS) private readonly settings: Settings,
  ) {}

  onModuleInit(): void {
    const log = new SessionLog({ format: this.settings.logFormat, syslog: this.settings.syslog });
    this.log = log;
    this.unsubscribe = this.runtime.onSessionEnd((record) => log.write(record));
  }

  async onApplicationShutdown(): Promise<void> {
    // The runtime may still close sessions after this; their lines would go nowhere, so wait for it is not
    // attempted: the log stops taking lines once closed.
    this.unsubscribe?.();
    await this.log?.close();
  }
}
