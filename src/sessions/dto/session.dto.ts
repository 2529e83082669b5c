import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import type { SessionInfo } from '../../runtime/types.js';

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
  @ApiProperty({ description: 'ms since the session started' }) ageMs: number;
  @ApiProperty({ description: 'ms since the last byte either way' }) idleMs: number;
}
