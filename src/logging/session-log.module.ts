import { Inject, Module, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ConfigModule } from '../config/config.module.js';
import { ConfigService } from '../config/config.service.js';
import { RUNTIME } from '../runtime/runtime.module.js';
import type { ProxyRuntimeApi } from '../runtime/types.js';
import { SETTINGS, type Settings } from '../settings.js';
import { SessionLog } from './session-log.js';

/** Connects the runtime's ended sessions to the session log (docs/session-logs.md). */
@Module({ imports: [ConfigModule] })
export class SessionLogModule implements OnModuleInit, OnApplicationShutdown {
  private log: SessionLog | null = null;
  private unsubscribe: (() => void) | null = null;

  constructor(
    @Inject(RUNTIME) private readonly runtime: ProxyRuntimeApi,
    @Inject(SETTINGS) private readonly settings: Settings,
    private readonly config: ConfigService,
  ) {}

  onModuleInit(): void {
    const log = new SessionLog({ format: this.settings.logFormat, syslog: this.settings.syslog });
    this.log = log;
    const config = this.config;
    this.unsubscribe = this.runtime.onSessionEnd((record) => {
      // The config's syslog target, live: a reference compare while it is unchanged.
      log.useConfigTarget(config.snapshot.defaults.log);
      log.write(record);
    });
  }

  async onApplicationShutdown(): Promise<void> {
    // The runtime may still close sessions after this; their lines would go nowhere, so wait for it is not
    // attempted: the log stops taking lines once closed.
    this.unsubscribe?.();
    await this.log?.close();
  }
}
