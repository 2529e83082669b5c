import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { BackendsModule } from '../backends/backends.module.js';
import { ConfigModule } from '../config/config.module.js';
import { RevisionEntity } from '../revisions/revision.entity.js';
import { HaproxyExportController } from './export.controller.js';
import { HaproxyExportService } from './export.service.js';

/** haproxy.cfg downloads of the config in effect and of stored revisions. */
@Module({
  imports: [TypeOrmModule.forFeature([RevisionEntity]), ConfigModule, BackendsModule],
  controllers: [HaproxyExportController],
  providers: [HaproxyExportService],
})
export class HaproxyExportModule {}
