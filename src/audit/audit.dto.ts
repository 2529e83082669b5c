import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsOptional, IsString, Max, Min } from 'class-validator';
import type { AuditResult } from './audit-event.entity.js';

export class AuditQueryDto {
  @ApiPropertyOptional({ description: 'Username of the actor' })
  @IsOptional()
  @IsString()
  user?: string;

  @ApiPropertyOptional({ description: 'Exact action, e.g. frontend.create, server.state, revision.rollback' })
  @IsOptional()
  @IsString()
  action?: string;

  @ApiPropertyOptional({ enum: ['ok', 'failed', 'denied'] })
  @IsOptional()
  @IsIn(['ok', 'failed', 'denied'])
  result?: AuditResult;

  @ApiPropertyOptional({ description: 'ISO 8601 time, inclusive' })
  @IsOptional()
  @IsISO8601()
  from?: string;

  @ApiPropertyOptional({ description: 'ISO 8601 time, inclusive' })
  @IsOptional()
  @IsISO8601()
  to?: string;

  @ApiPropertyOptional({ default: 100, minimum: 1, maximum: 1000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;

  @ApiPropertyOptional({ default: 0, minimum: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  // Past this a number is no longer exact, and past 2^63 SQLite refuses it (a 500 before this bound).
  @Max(Number.MAX_SAFE_INTEGER)
  offset?: number;
}

export class AuditEventDto {
  @ApiProperty() id: number;
  @ApiProperty({ description: 'ISO 8601' }) at: string;
  @ApiProperty({ description: 'Username' }) actor: string;
  @ApiProperty() role: string;
  @ApiPropertyOptional() sourceAddress?: string;
  @ApiProperty() action: string;
  @ApiPropertyOptional() target?: string;
  @ApiProperty({ enum: ['ok', 'failed', 'denied'] }) result: AuditResult;
  @ApiPropertyOptional() detail?: string;
  @ApiPropertyOptional({ description: 'Revision the change made' }) revisionId?: number;
}

export class AuditListDto {
  @ApiProperty({ type: [AuditEventDto] }) items: AuditEventDto[];
  @ApiProperty() total: number;
}
