import {
  ApiProperty,
  ApiPropertyOptional,
  IntersectionType,
  OmitType,
  PartialType,
  PickType,
} from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsOptional, ValidateNested } from 'class-validator';
import { Follows, IsAllowList, IsArrayOf } from '../common/validators.js';
import { FRONTEND_INSPECT, LIMITS, NAME_PATTERN, RULES } from '../schema/fields.js';
import type { FrontendInspect } from '../schema/snapshot.js';

const rules = RULES.frontend;
import type { FrontendFailure } from '../runtime/types.js';

export class BindDto {
  @ApiPropertyOptional({
    description: "IP address to listen on; '0.0.0.0' or '::' for all",
    default: '0.0.0.0',
  })
  @IsOptional()
  @Follows(rules.bindAddress)
  address?: string;

  @ApiProperty({ minimum: rules.bindPort.min, maximum: rules.bindPort.max, example: 9999 })
  @Follows(rules.bindPort)
  port: number;
}

/** HAProxy's `timeout client` is a frontend property: a frontend may set it for itself. */
export class FrontendTimeoutsDto {
  @ApiPropertyOptional({
    description:
      'Idle limit on the client side (ms; also a duration like 30s or 1h); absent: defaults.timeouts.client',
  })
  @IsOptional()
  @Follows(RULES.sectionTimeout)
  client?: number;
}

export class CreateFrontendDto {
  @ApiProperty({ pattern: NAME_PATTERN.source, example: 'cmpp' })
  @Follows(rules.name)
  name: string;

  @ApiPropertyOptional({
    type: BindDto,
    description: 'The first address it listens on (give this or `binds`; both must agree)',
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => BindDto)
  bind?: BindDto;

  @ApiPropertyOptional({
    type: [BindDto],
    minItems: 1,
    maxItems: LIMITS.bindsPerFrontend,
    description: 'Every address it listens on; `bind` is the first (give this or `bind`; both must agree)',
  })
  @IsOptional()
  @IsArrayOf({ noun: 'binds', min: 1, max: LIMITS.bindsPerFrontend })
  @ValidateNested({ each: true })
  @Type(() => BindDto)
  binds?: BindDto[];

  @ApiProperty({ description: 'Name of an existing backend', example: 'ismg' })
  @Follows(rules.backend)
  backend: string;

  @ApiPropertyOptional({
    minimum: rules.maxconn.min,
    maximum: rules.maxconn.max,
    description: 'Most concurrent client connections (default: defaults.maxconn)',
  })
  @IsOptional()
  @Follows(rules.maxconn)
  maxconn?: number;

  @ApiPropertyOptional({
    type: [String],
    description: 'CIDR allow-list, 1 or more entries; absent (or null in PATCH) = everyone',
    example: ['10.0.0.0/8'],
    minItems: 1,
    maxItems: LIMITS.allowEntries,
  })
  @IsOptional()
  @IsAllowList()
  allow?: string[];

  @ApiPropertyOptional({
    enum: FRONTEND_INSPECT,
    default: 'none',
    description: "'cmpp' reads the CMPP frames as they pass and counts them (docs/cmpp-inspection.md)",
  })
  @IsOptional()
  @Follows(rules.inspect)
  inspect?: FrontendInspect;

  @ApiPropertyOptional({
    type: FrontendTimeoutsDto,
    description:
      "This frontend's own timeouts in place of defaults.timeouts (docs/config-model.md); null clears",
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => FrontendTimeoutsDto)
  timeouts?: FrontendTimeoutsDto;

  @ApiPropertyOptional({ default: true })
  @IsOptional()
  @Follows(rules.enabled)
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
  @ApiProperty({ type: BindDto, description: 'The first of `binds`' }) bind: {
    address: string;
    port: number;
  };
  @ApiProperty({ type: [BindDto] }) binds: Array<{ address: string; port: number }>;
  @ApiProperty() backend: string;
  @ApiPropertyOptional() maxconn?: number;
  @ApiPropertyOptional({ type: [String] }) allow?: string[];
  @ApiPropertyOptional({ enum: FRONTEND_INSPECT }) inspect?: FrontendInspect;
  @ApiPropertyOptional({ type: FrontendTimeoutsDto }) timeouts?: FrontendTimeoutsDto;
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
