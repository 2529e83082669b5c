import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ConfigModule } from '../config/config.module.js';
import { EventsModule } from '../events/events.module.js';
import { BackendEntity } from './backend.entity.js';
import { BackendsController } from './backends.controller.js';
import { BackendsService } from './backends.service.js';
import { DrainsService } from './drains.service.js';
import { ServerStateEntity } from './server-state.entity.js';
import { ServerEntity } from './server.entity.js';
import { ServerStatesService } from './server-states.service.js';
import { ServersController } from './servers.controller.js';

@Module({
  imports: [
    TypeOrmModule.forFeature([BackendEntity, ServerEntity, ServerStateEntity]),
    ConfigModule,
    EventsModule,
  ],
  controllers: [BackendsController, ServersController],
  providers: [BackendsService, ServerStatesService, DrainsService],
  exports: [ServerStatesService, BackendsService, DrainsService],
})
export class BackendsModule {}
