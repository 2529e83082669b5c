import { Controller, Delete, Get, HttpCode, Param, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import {
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiHeader,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { Audited } from '../audit/audited.decorator.js';
import { RequireRole } from '../auth/roles.js';
import { Change, type ChangeContext } from '../common/change-context.js';
import { SessionResponseDto, SessionsQueryDto } from './dto/session.dto.js';
import { SessionsService } from './sessions.service.js';

@ApiTags('sessions')
@Controller('sessions')
export class SessionsController {
  constructor(private readonly sessions: SessionsService) {}

  @Get()
  @RequireRole('viewer')
  @ApiOperation({ summary: 'Live connections, oldest first, at most `limit` (default 1000)' })
  @ApiOkResponse({
    type: [SessionResponseDto],
    headers: { 'X-Total-Count': { description: 'Sessions matching the filter, before the limit' } },
  })
  async list(
    @Query() query: SessionsQueryDto,
    @Res({ passthrough: true }) response: Response,
  ): Promise<SessionResponseDto[]> {
    const { items, total } = await this.sessions.list(query);
    response.setHeader('X-Total-Count', String(total));
    return items;
  }

  @Delete(':id')
  @HttpCode(204)
  @RequireRole('operator')
  @Audited('session.kill')
  @ApiOperation({ summary: 'Close one live connection (client and server side)' })
  @ApiNoContentResponse({ description: 'Closed' })
  @ApiNotFoundResponse({ description: 'No live session with this id' })
  @ApiHeader({ name: 'If-Match', required: false, description: '"<revision id>"; stale → 412' })
  kill(@Param('id') id: string, @Change() change: ChangeContext): Promise<void> {
    return this.sessions.kill(id, change);
  }
}
