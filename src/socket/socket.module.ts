import { Module } from '@nestjs/common';
import { BackendsModule } from '../backends/backends.module.js';
import { ConfigModule } from '../config/config.module.js';
import { FrontendsModule } from '../frontends/frontends.module.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { StatsModule } from '../stats/stats.module.js';
import { RuntimeSocketService } from './runtime-socket.service.js';

/** The HAProxy-compatible runtime socket (docs/runtime-socket.md). */
@Module({
  imports: [ConfigModule, StatsModule, SessionsModule, BackendsModule, FrontendsModule],
  providers: [RuntimeSocketService],
  exports: [RuntimeSocketService],
})
export class SocketModule {}
