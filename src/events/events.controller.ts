import { Controller, Get, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { RequireRole } from '../auth/roles.js';
import { EventDto, EventsQueryDto } from './events.dto.js';
import { EventLogService } from './event-log.service.js';

@ApiTags('events')
@Controller('events')
export class EventsController {
  constructor(private readonly log: EventLogService) {}

  @Get()
  @RequireRole('viewer')
  @ApiOperation({
    summary:
      'The stored event log: health, admin state, drain, bind events and appliance starts, newest first',
  })
  @ApiOkResponse({
    type: [EventDto],
    headers: { 'X-Total-Count': { description: 'Events matching the filter, before the limit' } },
  })
  async list(
    @Query() query: EventsQueryDto,
    @Res({ passthrough: true }) response: Response,
  ): Promise<EventDto[]> {
    const { items, total } = await this.log.list(query);
    response.setHeader('X-Total-Count', String(total));
    return items;
  }
}
