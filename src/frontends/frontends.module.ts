import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ConfigModule } from '../config/config.module.js';
import { FrontendEntity } from './frontend.entity.js';
import { FrontendOpenAudit } from './frontend-open-audit.js';
import { FrontendsController } from './frontends.controller.js';
import { FrontendsService } from './frontends.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([FrontendEntity]), ConfigModule],
  controllers: [FrontendsController],
  providers: [FrontendsService, FrontendOpenAudit],
  exports: [FrontendsService],
})
export class FrontendsModule {}
