import { Module } from '@nestjs/common';
import { RetentionService } from './retention.service.js';

/** Prunes old audit entries and revisions (src/retention/retention.service.ts). */
@Module({ providers: [RetentionService], exports: [RetentionService] })
export class RetentionModule {}
