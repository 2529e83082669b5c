import {
  ApiProperty,
  ApiPropertyOptional,
  IntersectionType,
  OmitType,
  PartialType,
  PickType,
} from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsIP,
  IsOptional,
  IsString,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { IsCidr, IsName } from '../common/validators.js';
import { NAME_PATTERN } from '../config/snapshot-checks.js';
import type { FrontendInspect } from '../config/snapshot.js';
import type { FrontendFailure } from '../runtime/types.js';

export class BindDto {
  @ApiPropertyOptional({
    description: "IP address to listen on; '0.0.0.0' or '::' for all",
    default: '0.0.0.0',
  })
  @IsOptional()
  @IsIP()
  address?: string;

  @ApiProperty({ minimum: 1, maximum: 65535, example: 9999 })
  @IsInt()
  @Min(1)
  @Max(65535)
  port: number;
}

export class CreateFrontendDto {
  @ApiProperty({ pattern: NAME_PATTERN.source, example: 'cmpp' })
  @IsString()
  @IsName()
  name: string;

  @ApiProperty({ type: BindDto })
  @ValidateNested()
  @Type(() => BindDto)
  bind: BindDto;

  @ApiProperty({ description: 'Name of an existing backend', example: 'ismg' })
  @IsString()
  @IsName()
  backend: string;

  @ApiPropertyOptional({
    minimum: 1,
    description: 'Most concurrent client connections (default: defaults.maxconn)',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  maxconn?: number;

  @ApiPropertyOptional({
    type: [String],
    description: 'CIDR allow-list; absent = everyone',
    example: ['10.0.0.0/8'],
  })
  @IsOptional()
  @IsArray()
  @IsCidr({ each: true })
  allow?: string[];

  @ApiPropertyOptional({ enum: ['none', 'cmpp'], default: 'none' })
  @IsOptional()
  @IsIn(['none', 'cmpp'])
  inspect?: FrontendInspect;

  @ApiPropertyOptional({ default: true })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}

/** PUT: the whole frontend; `name` may be left out (keeps the name in the URL) or set to rename. */
export class ReplaceFrontendDto extends IntersectionType(
  OmitType(CreateFrontendDto, ['name'] as const),
  PartialType(PickType(CreateFrontendDto, ['name'] as const)),
) {}

/** PATCH: only the fields given change; `null` clears an optional field (maxconn, allow, inspect). */
export class UpdateFrontendDto extends PartialType(CreateFrontendDto) {}

export class FrontendErrorDto implements FrontendFailure {
  @ApiProperty() frontend: string;
  @ApiProperty({ example: 'EADDRINUSE' }) code: string;
  @ApiProperty() message: string;
}

export class FrontendRetryDto {
  @ApiProperty({ description: 'Bind attempts made since the frontend failed' }) attempts: number;
  @ApiProperty({ description: 'When the next attempt runs (epoch ms)' }) nextAt: number;
}

export class FrontendResponseDto {
  @ApiProperty() name: string;
  @ApiProperty({ type: BindDto }) bind: { address: string; port: number };
  @ApiProperty() backend: string;
  @ApiPropertyOptional() maxconn?: number;
  @ApiPropertyOptional({ type: [String] }) allow?: string[];
  @ApiPropertyOptional({ enum: ['none', 'cmpp'] }) inspect?: FrontendInspect;
  @ApiProperty() enabled: boolean;

  @ApiProperty({
    enum: ['OPEN', 'STOP', 'FAILED', 'UNKNOWN'],
    description: 'Live listener state: OPEN listening, STOP disabled, FAILED could not bind (see error)',
  })
  status: 'OPEN' | 'STOP' | 'FAILED' | 'UNKNOWN';

  @ApiPropertyOptional({ type: FrontendErrorDto }) error?: FrontendFailure;

  @ApiPropertyOptional({
    type: FrontendRetryDto,
    description: 'While FAILED: the bind is retried by itself, 1 s after failing, doubling up to 30 s',
  })
  retry?: { attempts: number; nextAt: number };
}

export class FrontendChangeResponseDto extends FrontendResponseDto {
  @ApiProperty({ description: 'Revision now in effect (also the ETag)' }) revision: number;
  @ApiProperty({ description: 'false when the request changed nothing (no new revision)' }) changed: boolean;
}
