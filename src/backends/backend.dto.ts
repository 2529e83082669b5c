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
  IsOptional,
  IsString,
  Length,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { IsHost, IsName } from '../common/validators.js';
import { NAME_PATTERN } from '../config/snapshot-checks.js';
import type { BalanceAlgorithm, CheckType, HashType, OnMarkedDown, SendProxy } from '../config/snapshot.js';
import type { AdminState, Health } from '../runtime/types.js';

// ---- servers ----

export class CreateServerDto {
  @ApiProperty({ pattern: NAME_PATTERN.source, example: 'gw1' })
  @IsString()
  @IsName()
  name: string;

  @ApiProperty({ description: 'IP address or host name', example: '10.0.0.11' })
  @IsHost()
  address: string;

  @ApiProperty({ minimum: 1, maximum: 65535, example: 7890 })
  @IsInt()
  @Min(1)
  @Max(65535)
  port: number;

  @ApiPropertyOptional({ minimum: 0, maximum: 256, default: 1 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(256)
  weight?: number;

  @ApiPropertyOptional({ minimum: 1 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  maxconn?: number;

  @ApiPropertyOptional({ default: false, description: 'Used only when no active server is usable' })
  @IsOptional()
  @IsBoolean()
  backup?: boolean;

  @ApiPropertyOptional({ default: true, description: 'Health-check this server' })
  @IsOptional()
  @IsBoolean()
  check?: boolean;
}

/** PUT: the whole server; `name` may be left out (keeps the name in the URL) or set to rename. */
export class ReplaceServerDto extends IntersectionType(
  OmitType(CreateServerDto, ['name'] as const),
  PartialType(PickType(CreateServerDto, ['name'] as const)),
) {}

/** PATCH: only the fields given change. A weight-only PATCH needs the operator role; anything else admin. */
export class UpdateServerDto extends PartialType(CreateServerDto) {}

export class ServerResponseDto {
  @ApiProperty() name: string;
  @ApiProperty() address: string;
  @ApiProperty() port: number;
  @ApiProperty() weight: number;
  @ApiPropertyOptional() maxconn?: number;
  @ApiProperty() backup: boolean;
  @ApiProperty() check: boolean;
  @ApiProperty({ enum: ['ready', 'drain', 'maint'], description: 'Admin state (runtime state, not config)' })
  adminState: AdminState;
  @ApiPropertyOptional({
    enum: ['UP', 'DOWN'],
    description: 'Health from the checks, when the runtime knows it',
  })
  health?: Health;
  @ApiPropertyOptional({ description: "HAProxy-style status, e.g. 'UP', 'DOWN 1/2', 'DRAIN', 'MAINT'" })
  status?: string;
}

export class ServerChangeResponseDto extends ServerResponseDto {
  @ApiProperty() revision: number;
  @ApiProperty() changed: boolean;
}

export class ServerStateDto {
  @ApiProperty({ enum: ['ready', 'drain', 'maint'] })
  @IsIn(['ready', 'drain', 'maint'])
  state: AdminState;

  @ApiPropertyOptional({ description: "Only with 'maint': also close the server's live sessions" })
  @IsOptional()
  @IsBoolean()
  shutdownSessions?: boolean;
}

export class ServerStateResponseDto {
  @ApiProperty() backend: string;
  @ApiProperty() server: string;
  @ApiProperty({ enum: ['ready', 'drain', 'maint'] }) previous: AdminState;
  @ApiProperty({ enum: ['ready', 'drain', 'maint'] }) state: AdminState;
  @ApiProperty() sessionsClosed: number;
  @ApiProperty({ description: 'false when the server already was in that state' }) changed: boolean;
}

export class ShutdownSessionsResponseDto {
  @ApiProperty({ description: 'How many sessions were closed' }) closed: number;
}

// ---- backends ----

export class CmppCheckDto {
  @ApiProperty({ description: 'SP account (Source_Addr) used to log in', example: '900001' })
  @IsString()
  @Length(1, 6)
  sourceAddr: string;

  @ApiProperty({
    description: "Shared secret; reads back as '********', and sending the mask keeps the stored one",
  })
  @IsString()
  @Length(1, 64)
  secret: string;

  @ApiPropertyOptional({ enum: ['2.0', '3.0'], default: '3.0' })
  @IsOptional()
  @IsIn(['2.0', '3.0'])
  version?: '2.0' | '3.0';
}

export class BackendCheckDto {
  @ApiPropertyOptional({ enum: ['tcp', 'cmpp', 'none'], default: 'tcp' })
  @IsOptional()
  @IsIn(['tcp', 'cmpp', 'none'])
  type?: CheckType;

  @ApiPropertyOptional({ description: 'ms between checks', default: 5000, minimum: 10 })
  @IsOptional()
  @IsInt()
  @Min(10)
  @Max(86_400_000)
  inter?: number;

  @ApiPropertyOptional({ default: 3, minimum: 1 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1000)
  fall?: number;

  @ApiPropertyOptional({ default: 2, minimum: 1 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1000)
  rise?: number;

  @ApiPropertyOptional({ description: 'ms; default: defaults.timeouts.check' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(86_400_000)
  timeout?: number;

  @ApiPropertyOptional({ type: CmppCheckDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => CmppCheckDto)
  cmpp?: CmppCheckDto;
}

export class CreateBackendDto {
  @ApiProperty({ pattern: NAME_PATTERN.source, example: 'ismg' })
  @IsString()
  @IsName()
  name: string;

  @ApiPropertyOptional({
    enum: ['source', 'roundrobin', 'leastconn', 'first', 'cmpp-account'],
    default: 'source',
  })
  @IsOptional()
  @IsIn(['source', 'roundrobin', 'leastconn', 'first', 'cmpp-account'])
  balance?: BalanceAlgorithm;

  @ApiPropertyOptional({ enum: ['consistent', 'map-based'], default: 'consistent' })
  @IsOptional()
  @IsIn(['consistent', 'map-based'])
  hashType?: HashType;

  @ApiPropertyOptional({ type: BackendCheckDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => BackendCheckDto)
  check?: BackendCheckDto;

  @ApiPropertyOptional({
    enum: ['none', 'v1', 'v2'],
    default: 'none',
    description: 'PROXY protocol toward servers',
  })
  @IsOptional()
  @IsIn(['none', 'v1', 'v2'])
  sendProxy?: SendProxy;

  @ApiPropertyOptional({ enum: ['keep', 'shutdown-sessions'], default: 'keep' })
  @IsOptional()
  @IsIn(['keep', 'shutdown-sessions'])
  onMarkedDown?: OnMarkedDown;

  @ApiPropertyOptional({ type: [CreateServerDto] })
  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => CreateServerDto)
  servers?: CreateServerDto[];
}

/**
 * PUT: the whole backend; `name` may be left out (keeps the name in the URL) or set to rename.
 * Leaving out `servers` keeps the current servers (they have their own endpoints).
 */
export class ReplaceBackendDto extends IntersectionType(
  OmitType(CreateBackendDto, ['name'] as const),
  PartialType(PickType(CreateBackendDto, ['name'] as const)),
) {}

/** PATCH: only the fields given change; nested objects (check) are replaced whole. */
export class UpdateBackendDto extends PartialType(CreateBackendDto) {}

export class CmppCheckResponseDto {
  @ApiProperty() sourceAddr: string;
  @ApiProperty({ example: '********' }) secret: string;
  @ApiProperty({ enum: ['2.0', '3.0'] }) version: '2.0' | '3.0';
}

export class BackendCheckResponseDto {
  @ApiProperty({ enum: ['tcp', 'cmpp', 'none'] }) type: CheckType;
  @ApiProperty() inter: number;
  @ApiProperty() fall: number;
  @ApiProperty() rise: number;
  @ApiPropertyOptional() timeout?: number;
  @ApiPropertyOptional({ type: CmppCheckResponseDto }) cmpp?: CmppCheckResponseDto;
}

export class BackendResponseDto {
  @ApiProperty() name: string;
  @ApiProperty({ enum: ['source', 'roundrobin', 'leastconn', 'first', 'cmpp-account'] })
  balance: BalanceAlgorithm;
  @ApiProperty({ enum: ['consistent', 'map-based'] }) hashType: HashType;
  @ApiProperty({ type: BackendCheckResponseDto }) check: BackendCheckResponseDto;
  @ApiProperty({ enum: ['none', 'v1', 'v2'] }) sendProxy: SendProxy;
  @ApiProperty({ enum: ['keep', 'shutdown-sessions'] }) onMarkedDown: OnMarkedDown;
  @ApiProperty({ type: [ServerResponseDto] }) servers: ServerResponseDto[];
}

export class BackendChangeResponseDto extends BackendResponseDto {
  @ApiProperty() revision: number;
  @ApiProperty() changed: boolean;
}
