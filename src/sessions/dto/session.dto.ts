import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import type { SessionInfo } from '../../runtime/types.js';

/** A list of 50,000 live sessions would be megabytes a poll: the answer is capped, the total is a header. */
export const SESSIONS_LIMIT_DEFAULT = 1000;
export const SESSIONS_LIMIT_MAX = 10_000;

export class SessionsQueryDto {
  @ApiPropertyOptional({ description: 'Only sessions of this backend' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  backend?: string;

  @ApiPropertyOptional({ description: 'Only sessions on this server (name within its backend)' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  server?: string;

  @ApiPropertyOptional({ description: 'Only sessions that came in through this frontend' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  frontend?: string;

  @ApiPropertyOptional({
    description: 'Most sessions answered, oldest first (X-Total-Count says how many matched)',
    minimum: 1,
    maximum: SESSIONS_LIMIT_MAX,
    default: SESSIONS_LIMIT_DEFAULT,
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(SESSIONS_LIMIT_MAX)
  limit?: number;
}

export interface SessionList {
  items: SessionResponseDto[];
  /** How many matched the filter, before the limit. */
  total: number;
}

export class SessionResponseDto implements SessionInfo {
  @ApiProperty() id: string;
  @ApiProperty() frontend: string;
  @ApiProperty() backend: string;
  @ApiProperty({ type: String, nullable: true, description: 'null while connecting' }) server: string | null;
  @ApiProperty({ example: '10.1.2.3' }) clientAddress: string;
  @ApiProperty() clientPort: number;
  @ApiProperty({ description: 'Epoch ms' }) startedAt: number;
  @ApiProperty({ description: 'Epoch ms of the last byte either way' }) lastActiveAt: number;
  @ApiProperty({ description: 'Bytes client → server' }) bytesIn: number;
  @ApiProperty({ description: 'Bytes server → client' }) bytesOut: number;
  @ApiProperty({ enum: ['connecting', 'established', 'closing'] }) state:
    'connecting' | 'established' | 'closing';
  @ApiProperty({
    enum: ['onread', 'stream'],
    description: "How the client socket is read: into the runtime's buffer (onread) or via 'data' events",
  })
  readPath: 'onread' | 'stream';
  @ApiPropertyOptional({
    example: '901234',
    description: 'CMPP: SP account of the CONNECT (inspected or cmpp-account)',
  })
  account?: string;
  @ApiPropertyOptional({
    example: '3.0',
    description: "CMPP inspection: the version the client's CONNECT asked for",
  })
  cmppVersion?: string;
  @ApiPropertyOptional({
    description: "CMPP inspection: the client's (up) and the server's (down) requests awaiting an answer",
    example: { up: 16, down: 0 },
  })
  outstanding?: { up: number; down: number };
  @ApiProperty({ description: 'ms since the session started' }) ageMs: number;
  @ApiProperty({ description: 'ms since the last byte either way' }) idleMs: number;
}
