import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDefined, IsInt, IsOptional, Min, ValidateNested } from 'class-validator';
import {
  BackendCheckResponseDto,
  BackendCmppDto,
  BackendTimeoutsDto,
  CreateBackendDto,
  CreateServerDto,
} from '../backends/backend.dto.js';
import { BindDto, CreateFrontendDto, FrontendTimeoutsDto } from '../frontends/frontend.dto.js';
import type { ImpactReport } from '../runtime/types.js';
import { Follows, IsArrayOf } from '../common/validators.js';
import { FRONTEND_INSPECT, LIMITS, RULES, SYSLOG_FACILITIES } from '../schema/fields.js';
import type { FrontendInspect, SyslogFacility } from '../schema/snapshot.js';
import type { ChangeKind } from './snapshot-diff.js';

const DURATION_DOC =
  'ms; also a duration as HAProxy writes it (5s, 500ms, 1m, 1h, 2d, 10us); read back as ms';

export class TimeoutsDto {
  @ApiPropertyOptional({
    description: DURATION_DOC,
    default: 5000,
  })
  @IsOptional()
  @Follows(RULES.defaults.timeout)
  connect?: number;

  @ApiPropertyOptional({
    description: DURATION_DOC,
    default: 3_600_000,
  })
  @IsOptional()
  @Follows(RULES.defaults.timeout)
  client?: number;

  @ApiPropertyOptional({
    description: DURATION_DOC,
    default: 3_600_000,
  })
  @IsOptional()
  @Follows(RULES.defaults.timeout)
  server?: number;

  @ApiPropertyOptional({
    description: DURATION_DOC,
    default: 5000,
  })
  @IsOptional()
  @Follows(RULES.defaults.timeout)
  check?: number;

  @ApiPropertyOptional({
    description: `Once connected, the idle limit in place of client and server (HAProxy \`timeout tunnel\`); absent: none. ${DURATION_DOC}`,
  })
  @IsOptional()
  @Follows(RULES.defaults.timeout)
  tunnel?: number;
}

export class LogTargetDto {
  @ApiProperty({ description: 'IP address of the syslog server (UDP); not a host name' })
  @IsDefined()
  @Follows(RULES.log.address)
  address: string;

  @ApiPropertyOptional({ default: 514, minimum: RULES.log.port.min, maximum: RULES.log.port.max })
  @IsOptional()
  @Follows(RULES.log.port)
  port?: number;

  @ApiPropertyOptional({ enum: SYSLOG_FACILITIES, default: 'local0' })
  @IsOptional()
  @Follows(RULES.log.facility)
  facility?: SyslogFacility;
}

export class DefaultsDto {
  @ApiPropertyOptional({
    default: 50000,
    minimum: RULES.defaults.maxconn.min,
    maximum: RULES.defaults.maxconn.max,
  })
  @IsOptional()
  @Follows(RULES.defaults.maxconn)
  maxconn?: number;

  @ApiPropertyOptional({ type: TimeoutsDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => TimeoutsDto)
  timeouts?: TimeoutsDto;

  @ApiPropertyOptional({
    type: LogTargetDto,
    nullable: true,
    description:
      "Syslog target of the session logs (HAProxy's global `log`); null or absent: none, TETHER_SYSLOG applies",
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => LogTargetDto)
  log?: LogTargetDto | null;
}

/** PUT /config and POST /config/validate: a whole snapshot. */
export class ConfigDto {
  @ApiPropertyOptional({
    description:
      'Revision this document is based on (as read from GET /config); acts like If-Match: stale → 412',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  revision?: number;

  @ApiPropertyOptional({ type: DefaultsDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => DefaultsDto)
  defaults?: DefaultsDto;

  @ApiProperty({ type: [CreateFrontendDto], maxItems: LIMITS.frontends })
  @IsArrayOf({ noun: 'frontends', max: LIMITS.frontends })
  @ValidateNested({ each: true })
  @Type(() => CreateFrontendDto)
  frontends: CreateFrontendDto[];

  @ApiProperty({ type: [CreateBackendDto], maxItems: LIMITS.backends })
  @IsArrayOf({ noun: 'backends', max: LIMITS.backends })
  @ValidateNested({ each: true })
  @Type(() => CreateBackendDto)
  backends: CreateBackendDto[];
}

// ---- responses ----

class TimeoutsResponseDto {
  @ApiProperty() connect: number;
  @ApiProperty() client: number;
  @ApiProperty() server: number;
  @ApiProperty() check: number;
  @ApiPropertyOptional() tunnel?: number;
}

class LogTargetResponseDto {
  @ApiProperty() address: string;
  @ApiProperty() port: number;
  @ApiProperty({ enum: SYSLOG_FACILITIES }) facility: string;
}

class DefaultsResponseDto {
  @ApiProperty() maxconn: number;
  @ApiProperty({ type: TimeoutsResponseDto }) timeouts: TimeoutsResponseDto;
  @ApiPropertyOptional({ type: LogTargetResponseDto, description: 'absent: none in the config' })
  log?: LogTargetResponseDto;
}

class SnapshotFrontendDto {
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
}

class SnapshotBackendDto {
  @ApiProperty() name: string;
  @ApiProperty() balance: string;
  @ApiProperty() hashType: string;
  @ApiProperty({ type: BackendCheckResponseDto }) check: BackendCheckResponseDto;
  @ApiProperty() sendProxy: string;
  @ApiProperty() onMarkedDown: string;
  @ApiPropertyOptional() retries?: number;
  @ApiPropertyOptional() redispatch?: boolean;
  @ApiPropertyOptional({ type: BackendTimeoutsDto }) timeouts?: BackendTimeoutsDto;
  @ApiPropertyOptional({ type: BackendCmppDto }) cmpp?: BackendCmppDto;
  @ApiProperty({ type: [CreateServerDto] }) servers: CreateServerDto[];
}

/** A whole snapshot as the API shows it (secrets masked). */
export class SnapshotDto {
  @ApiProperty({ type: DefaultsResponseDto }) defaults: DefaultsResponseDto;
  @ApiProperty({ type: [SnapshotFrontendDto] }) frontends: SnapshotFrontendDto[];
  @ApiProperty({ type: [SnapshotBackendDto] }) backends: SnapshotBackendDto[];
}

export class ConfigResponseDto extends SnapshotDto {
  @ApiProperty({ description: 'Current revision (0 before the first change); also the ETag' })
  revision: number;
}

export class ConfigChangeResponseDto extends ConfigResponseDto {
  @ApiProperty({ description: 'false when the document equalled the current config (no new revision)' })
  changed: boolean;
}

/** Result of DELETE and other changes that return no resource. */
export class CommitResultDto {
  @ApiProperty({ description: 'Revision now in effect (also the ETag)' }) revision: number;
  @ApiProperty({ description: 'false when nothing changed (no new revision)' }) changed: boolean;
}

export class SnapshotChangeDto {
  @ApiProperty({ example: 'backends[ismg].servers[gw1].weight' }) path: string;
  @ApiProperty({ enum: ['added', 'removed', 'changed'] }) kind: ChangeKind;
  @ApiPropertyOptional({ description: 'Value before (absent when added)' }) before?: unknown;
  @ApiPropertyOptional({ description: 'Value after (absent when removed)' }) after?: unknown;
}

class ListenerImpactDto {
  @ApiProperty() frontend: string;
  @ApiProperty() address: string;
  @ApiProperty() port: number;
  @ApiPropertyOptional({ description: 'Live sessions on it (kept until they end)' }) sessions?: number;
}

class ServerRemovedImpactDto {
  @ApiProperty() backend: string;
  @ApiProperty() server: string;
  @ApiProperty({ description: 'Live sessions (kept until they end)' }) sessions: number;
}

class RehashImpactDto {
  @ApiProperty() backend: string;
  @ApiProperty({ description: 'Distinct current client keys' }) clients: number;
  @ApiProperty({ description: 'How many of them would go to a different server next time' }) moved: number;
  @ApiProperty({ description: 'moved / clients, 0..1' }) share: number;
}

export class ImpactDto implements ImpactReport {
  @ApiProperty({ type: [ListenerImpactDto] }) listenersOpened: ImpactReport['listenersOpened'];
  @ApiProperty({ type: [ListenerImpactDto] }) listenersClosed: ImpactReport['listenersClosed'];
  @ApiProperty({ type: [ServerRemovedImpactDto] }) serversRemoved: ImpactReport['serversRemoved'];
  @ApiProperty({ type: [RehashImpactDto] }) rehashed: ImpactReport['rehashed'];
}

export class ValidateResponseDto {
  @ApiProperty({ description: 'Always true: an invalid document answers 400/409/422 like PUT /config' })
  valid: boolean;
  @ApiProperty({ description: 'Revision the document was compared with' }) revision: number;
  @ApiProperty({ description: 'false when the document equals the current config' }) changed: boolean;
  @ApiProperty({ type: [SnapshotChangeDto] }) changes: SnapshotChangeDto[];
  @ApiProperty({
    description:
      'Unified diff of the pretty-printed snapshots (secrets masked); past 100 changed lines, a note instead',
  })
  text: string;
  @ApiProperty({ type: ImpactDto }) impact: ImpactDto;
}
