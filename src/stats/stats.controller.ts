import { Controller, Get, type MessageEvent, Query, Req, Res, Sse } from '@nestjs/common';
import {
  ApiExtraModels,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import type { Observable } from 'rxjs';
import { RequireRole } from '../auth/roles.js';
import { StreamAccess } from '../auth/stream-access.js';
import {
  HistoryQueryDto,
  SampleTotalsDto,
  StatsEventDto,
  StatsQueryDto,
  StatsResponseDto,
  StatsSampleDto,
} from './dto/stats.dto.js';
import { StatsService } from './stats.service.js';

@ApiTags('stats')
@ApiExtraModels(SampleTotalsDto, StatsEventDto)
@Controller('stats')
export class StatsController {
  constructor(
    private readonly stats: StatsService,
    private readonly access: StreamAccess,
  ) {}

  @Get()
  @RequireRole('viewer')
  @ApiOperation({
    summary: 'Counters of every frontend, backend and server',
    description:
      "JSON by default; `?format=csv` answers HAProxy 2.6 `show stat` CSV, readable by HAProxy's tooling. " +
      '`?accounts=N`: only the N busiest CMPP accounts (SUBMITs answered by the gateways), and `cmppAccountsTotal`.',
  })
  @ApiProduces('application/json', 'text/csv')
  @ApiOkResponse({ type: StatsResponseDto })
  async get(
    @Query() query: StatsQueryDto,
    @Res({ passthrough: true }) response: Response,
  ): Promise<StatsResponseDto | string> {
    if (query.format !== 'csv')
      return query.accounts === undefined ? this.stats.stats() : this.stats.statsBusiest(query.accounts);
    response.type('text/csv');
    return this.stats.csv();
  }

  @Sse('stream')
  @RequireRole('viewer')
  @ApiOperation({
    summary: 'Live stats as Server-Sent Events',
    description:
      'A `stats` event (the GET /stats body without `cmppAccounts`, plus `serverTime`) on connect and every second; runtime events as they ' +
      'happen, each under its own type: `health`, `admin-state`, `frontend-error`, `frontend-open`, `sessions-closed`. The stream ends ' +
      'within 2 s of its token being revoked or its login ended; a user holds at most 8 streams at once (429 beyond).',
  })
  @ApiProduces('text/event-stream')
  @ApiOkResponse({ description: 'Event stream', schema: { $ref: getSchemaPath(StatsEventDto) } })
  stream(@Req() request: Request): Observable<MessageEvent> {
    return this.access.hold(request, 'viewer', this.stats.stream());
  }

  @Get('history')
  @RequireRole('viewer')
  @ApiOperation({ summary: 'Once-a-second samples of the last 15 minutes or more, oldest first' })
  @ApiOkResponse({ type: [StatsSampleDto] })
  history(@Query() query: HistoryQueryDto): Promise<StatsSampleDto[]> {
    return this.stats.history(query.since);
  }
}
