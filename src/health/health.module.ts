import { Module } from '@nestjs/common';
import { ConfigModule } from '../config/config.module.js';
import { HealthController } from './health.controller.js';

@Module({ imports: [ConfigModule], controllers: [HealthController] })
export class HealthModule {}
