import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiProperty, ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/roles.js';
import { ConfigService } from '../config/config.service.js';

class HealthDto {
  @ApiProperty({ example: 'ok' }) status: 'ok';
  @ApiProperty({ description: 'Revision in effect' }) revision: number;
  @ApiProperty({ description: 'Seconds since the process started' }) uptime: number;
}

/** Liveness for load balancers and orchestrators; outside /api/v1 and needs no credentials. */
@ApiTags('health')
@Controller('healthz')
export class HealthController {
  constructor(private readonly config: ConfigService) {}

  @Get()
  @Public()
  @ApiOkResponse({ type: HealthDto })
  get(): HealthDto {
    return { status: 'ok', revision: this.config.revision, uptime: Math.round(process.uptime()) };
  }
}
