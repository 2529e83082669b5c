import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { RetentionModule } from '../retention/retention.module.js';
import { EventEntity } from './event.entity.js';
import { EventLogService } from './event-log.service.js';
import { EventsController } from './events.controller.js';
import { SampleStore } from './sample-store.service.js';
import { StatsSampleEntity } from './stats-sample.entity.js';

/** The stored event log (GET /events) and the stored chart samples (docs/events.md). */
@Module({
  imports: [TypeOrmModule.forFeature([EventEntity, StatsSampleEntity]), RetentionModule],
  controllers: [EventsController],
  providers: [EventLogService, SampleStore],
  exports: [EventLogService, SampleStore],
})
export class EventsModule {}
