import { Module } from '@nestjs/common';
import { BackendsModule } from '../backends/backends.module.js';
import { ConfigModule } from '../config/config.module.js';
import { ImportController } from './import.controller.js';
import { HaproxyImportService } from './import.service.js';

/** Configs written for other load balancers, turned into Tether's (today: haproxy.cfg). */
@Module({
  imports: [ConfigModule, BackendsModule],
  controllers: [ImportController],
  providers: [HaproxyImportService],
})
export class ImportModule {}
