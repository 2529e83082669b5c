import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { RequireRole } from '../auth/roles.js';
import { StatsService } from './stats.service.js';

/** /metrics sits outside /api/v1 (app.factory excludes it from the prefix), where Prometheus looks. */
@ApiTags('stats')
@Controller('metrics')
export class MetricsController {
  constructor(private readonly stats: StatsService) {}

  @Get()
  @RequireRole('viewer')
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  @ApiOperation({
    summary: "Prometheus metrics under HAProxy 2.6's exporter names (haproxy_frontend_*, ...)",
  })
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'Prometheus text exposition format 0.0.4' })
  metrics(): Promise<string> {
    return this.stats.metrics();
  }
}
