import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { BackendsModule } from '../backends/backends.module.js';
import { ConfigModule } from '../config/config.module.js';
import { EventsModule } from '../events/events.module.js';
import { MetricsController } from './metrics.controller.js';
import { StatsController } from './stats.controller.js';
import { StatsService } from './stats.service.js';

@Module({
  imports: [ConfigModule, AuthModule, EventsModule, BackendsModule],
  controllers: [StatsController, MetricsController],
  providers: [StatsService],
  exports: [StatsService],
})
export class StatsModule {}
