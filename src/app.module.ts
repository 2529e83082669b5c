import { Global, Module, type DynamicModule } from '@nestjs/common';
import { AuditModule } from './audit/audit.module.js';
import { AuthModule } from './auth/auth.module.js';
import { BackendsModule } from './backends/backends.module.js';
import { ConfigModule } from './config/config.module.js';
import { ConsoleModule } from './console/console.module.js';
import { DatabaseModule } from './database/database.module.js';
import { EventsModule } from './events/events.module.js';
import { FrontendsModule } from './frontends/frontends.module.js';
import { HaproxyExportModule } from './export/export.module.js';
import { HealthModule } from './health/health.module.js';
import { ImportModule } from './import/import.module.js';
import { RetentionModule } from './retention/retention.module.js';
import { RevisionsModule } from './revisions/revisions.module.js';
import { RuntimeModule } from './runtime/runtime.module.js';
import { SessionsModule } from './sessions/sessions.module.js';
import { SessionLogModule } from './logging/session-log.module.js';
import { appLoggerModule, createAppPino } from './logging/app-logger.js';
import { SETTINGS, type Settings } from './settings.js';
import { SocketModule } from './socket/socket.module.js';
import { StatsModule } from './stats/stats.module.js';

/** Makes the app's Settings injectable everywhere: `@Inject(SETTINGS) settings: Settings`. */
@Global()
@Module({})
class SettingsModule {
  static forRoot(settings: Settings): DynamicModule {
    return {
      module: SettingsModule,
      providers: [{ provide: SETTINGS, useValue: settings }],
      exports: [SETTINGS],
    };
  }
}

/** Every feature module of the app, one per line: append yours. */
const FEATURE_MODULES = [
  SessionLogModule,
  DatabaseModule,
  RuntimeModule,
  AuditModule,
  ConfigModule,
  FrontendsModule,
  BackendsModule,
  RevisionsModule,
  HealthModule,
  ConsoleModule,
  AuthModule,
  StatsModule,
  SessionsModule,
  RetentionModule,
  HaproxyExportModule,
  SocketModule,
  ImportModule,
  EventsModule,
];

@Module({})
export class AppModule {
  static forRoot(settings: Settings): DynamicModule {
    // The app's own logs: pino JSON (nestjs-pino) unless TETHER_LOG_FORMAT=haproxy asks for text, which Nest's
    // own logger prints (docs/session-logs.md, "The app's own logs").
    const logging =
      settings.logFormat === 'json'
        ? [appLoggerModule(createAppPino({ level: settings.logLevel }), settings.logLevel)]
        : [];
    return { module: AppModule, imports: [SettingsModule.forRoot(settings), ...logging, ...FEATURE_MODULES] };
  }
}
