import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { BackendEntity } from '../backends/backend.entity.js';
import { ServerEntity } from '../backends/server.entity.js';
import { FrontendEntity } from '../frontends/frontend.entity.js';
import { RevisionEntity } from '../revisions/revision.entity.js';
import { ConfigDocumentService } from './config-document.service.js';
import { ConfigController } from './config.controller.js';
import { ConfigService } from './config.service.js';
import { RevisionTagInterceptor } from './revision-tag.interceptor.js';

/** The config pipeline (ConfigService) and the whole-document endpoints. */
@Module({
  imports: [TypeOrmModule.forFeature([FrontendEntity, BackendEntity, ServerEntity, RevisionEntity])],
  controllers: [ConfigController],
  providers: [ConfigService, ConfigDocumentService, RevisionTagInterceptor],
  exports: [ConfigService, RevisionTagInterceptor],
})
export class ConfigModule {}
