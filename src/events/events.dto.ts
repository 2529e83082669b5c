import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { IsQueryIntegerIn, IsQueryText, QueryInteger } from '../common/validators.js';
import { EVENT_TYPES, type EventType } from './event.entity.js';

export const EVENTS_LIMIT_DEFAULT = 100;
export const EVENTS_LIMIT_MAX = 1000;

export class EventsQueryDto {
  @ApiPropertyOptional({ enum: EVENT_TYPES })
  @IsOptional()
  @IsIn(EVENT_TYPES)
  type?: EventType;

  @ApiPropertyOptional({ description: 'Only events of this frontend (bind events)' })
  @IsOptional()
  @IsQueryText(64)
  frontend?: string;

  @ApiPropertyOptional({ description: 'Only events of this backend (health, admin state, sessions closed)' })
  @IsOptional()
  @IsQueryText(64)
  backend?: string;

  @ApiPropertyOptional({ description: 'Only events of servers of this name' })
  @IsOptional()
  @IsQueryText(64)
  server?: string;

  @ApiPropertyOptional({ description: 'Only events at or after this time, ms since the epoch' })
  @IsOptional()
  @QueryInteger()
  @IsQueryIntegerIn(0, Number.MAX_SAFE_INTEGER, 'a time in ms since the epoch')
  since?: number;

  @ApiPropertyOptional({
    description: 'Most events answered, newest first (X-Total-Count says how many matched)',
    minimum: 1,
    maximum: EVENTS_LIMIT_MAX,
    default: EVENTS_LIMIT_DEFAULT,
  })
  @IsOptional()
  @QueryInteger()
  @IsQueryIntegerIn(1, EVENTS_LIMIT_MAX)
  limit?: number;
}

export class EventDto {
  @ApiProperty() id: number;
  @ApiProperty({ description: 'ms since the epoch' }) at: number;
  @ApiProperty({ enum: EVENT_TYPES }) type: EventType;
  @ApiPropertyOptional() frontend?: string;
  @ApiPropertyOptional() backend?: string;
  @ApiPropertyOptional() server?: string;
  @ApiProperty({ description: 'One line, e.g. "gw/s1 UP → DOWN (L4CON)"' }) text: string;
  @ApiProperty({ description: "The runtime event's own fields (as on GET /stats/stream)" })
  detail: Record<string, unknown>;
}
