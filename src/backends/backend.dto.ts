import {
  ApiProperty,
  ApiPropertyOptional,
  IntersectionType,
  OmitType,
  PartialType,
  PickType,
} from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsIn, IsOptional, ValidateIf, ValidateNested } from 'class-validator';
import { Follows, IsArrayOf } from '../common/validators.js';
import {
  BALANCE_ALGORITHMS,
  CHECK_TYPES,
  CMPP_VERSIONS,
  DRAIN_THEN,
  type DrainThen,
  HASH_TYPES,
  LIMITS,
  NAME_PATTERN,
  ON_MARKED_DOWN,
  RULES,
  SEND_PROXY,
} from '../schema/fields.js';
import type {
  BalanceAlgorithm,
  CheckType,
  CmppVersion,
  HashType,
  OnMarkedDown,
  SendProxy,
} from '../schema/snapshot.js';
import type { AdminState, Health } from '../runtime/types.js';

// ---- servers ----

export class CreateServerDto {
  @ApiProperty({ pattern: NAME_PATTERN.source, example: 'gw1' })
  @Follows(RULES.server.name)
  name: string;

  @ApiProperty({
    description: 'IP address or DNS host name (resolved when applied)',
    example: '10.0.0.11',
  })
  @Follows(RULES.server.address)
  address: string;

  @ApiProperty({ minimum: RULES.server.port.min, maximum: RULES.server.port.max, example: 7890 })
  @Follows(RULES.server.port)
  port: number;

  @ApiPropertyOptional({ minimum: RULES.server.weight.min, maximum: RULES.server.weight.max, default: 1 })
  @IsOptional()
  @Follows(RULES.server.weight)
  weight?: number;

  @ApiPropertyOptional({ minimum: RULES.server.maxconn.min, maximum: RULES.server.maxconn.max })
  @IsOptional()
  @Follows(RULES.server.maxconn)
  maxconn?: number;

  @ApiPropertyOptional({ default: false, description: 'Used only when no active server is usable' })
  @IsOptional()
  @Follows(RULES.server.backup)
  backup?: boolean;

  @ApiPropertyOptional({ default: true, description: 'Health-check this server' })
  @IsOptional()
  @Follows(RULES.server.check)
  check?: boolean;

  @ApiPropertyOptional({
    description: "The port health checks connect to (HAProxy's `port`); default: the server's port",
    minimum: RULES.server.checkPort.min,
    maximum: RULES.server.checkPort.max,
  })
  @IsOptional()
  @Follows(RULES.server.checkPort)
  checkPort?: number;
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
  @ApiPropertyOptional() checkPort?: number;
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

  @ApiPropertyOptional({
    description:
      "Only with 'drain': ms (or a duration like 30m) after which the sessions left are closed (gracefully on " +
      'inspected frontends); at most 7 days. Makes the drain an operation that ends by itself (`then`).',
    minimum: RULES.drain.deadline.min,
    maximum: RULES.drain.deadline.max,
  })
  // null is refused, not taken for "left out": it would mean no deadline while saying one.
  @ValidateIf((o: ServerStateDto) => o.deadline !== undefined)
  @Follows(RULES.drain.deadline)
  deadline?: number;

  @ApiPropertyOptional({
    enum: DRAIN_THEN,
    description:
      "Only with 'drain': the state the server moves to by itself when its last session is gone (default maint); " +
      "'drain' ends the operation and keeps the server draining. Without deadline nor then, a drain stays drain.",
  })
  @ValidateIf((o: ServerStateDto) => o.then !== undefined)
  @Follows(RULES.drain.then)
  then?: DrainThen;
}

export class DrainStartedDto {
  @ApiProperty({ description: 'epoch ms' }) startedAt: number;
  @ApiProperty({ type: Number, nullable: true, description: 'epoch ms when the sessions left are closed' })
  deadlineAt: number | null;
  @ApiProperty({ enum: DRAIN_THEN, nullable: true, description: 'null: a plain drain, it stays drain' })
  then: DrainThen | null;
}

export class ServerStateResponseDto {
  @ApiProperty() backend: string;
  @ApiProperty() server: string;
  @ApiProperty({ enum: ['ready', 'drain', 'maint'] }) previous: AdminState;
  @ApiProperty({ enum: ['ready', 'drain', 'maint'] }) state: AdminState;
  @ApiProperty() sessionsClosed: number;
  @ApiProperty({
    description: 'false when the server already was in that state (and no drain operation was set)',
  })
  changed: boolean;
  @ApiPropertyOptional({ type: DrainStartedDto, description: 'state drain: the drain as started' })
  drain?: DrainStartedDto;
}

export class ShutdownSessionsDto {
  @ApiPropertyOptional({
    description:
      'true: inspected (inspect: cmpp) sessions end the CMPP way, losing and duplicating no message ' +
      '(docs/cmpp-session-control.md); the others are cut. Also `?graceful=true`. Default false: cut them all.',
  })
  @IsOptional()
  @IsBoolean()
  graceful?: boolean;
}

export class ShutdownSessionsResponseDto {
  @ApiProperty({ description: 'How many sessions were closed' }) closed: number;
}

// ---- backends ----

export class CmppCheckDto {
  @ApiProperty({
    description: 'SP account (Source_Addr) used to log in: 1 to 6 bytes (UTF-8)',
    example: '900001',
  })
  @Follows(RULES.cmpp.sourceAddr)
  sourceAddr: string;

  @ApiProperty({
    description: "Shared secret; reads back as '********', and sending the mask keeps the stored one",
  })
  @Follows(RULES.cmpp.secret)
  secret: string;

  @ApiPropertyOptional({ enum: CMPP_VERSIONS, default: '3.0' })
  @IsOptional()
  @Follows(RULES.cmpp.version)
  version?: CmppVersion;
}

export class CheckExpectDto {
  @ApiPropertyOptional({ description: 'Text (UTF-8) to read before the check goes on: 1 to 1024 bytes' })
  @IsOptional()
  @Follows(RULES.checkStep.expectString)
  string?: string;

  @ApiPropertyOptional({ description: 'Bytes (hex, two digits per byte) to read: 1 to 1024 bytes' })
  @IsOptional()
  @Follows(RULES.checkStep.expectBinary)
  binary?: string;
}

/** One step of a tcp-check sequence: exactly one of send, sendBinary, expect (docs/health-checks.md). */
export class CheckStepDto {
  @ApiPropertyOptional({ description: 'Text (UTF-8) to send, e.g. "PING\\r\\n": 1 to 1024 bytes' })
  @IsOptional()
  @Follows(RULES.checkStep.send)
  send?: string;

  @ApiPropertyOptional({ description: 'Bytes (hex, two digits per byte) to send: 1 to 1024 bytes' })
  @IsOptional()
  @Follows(RULES.checkStep.sendBinary)
  sendBinary?: string;

  @ApiPropertyOptional({ type: CheckExpectDto, description: 'Read until this text or these bytes appear' })
  @IsOptional()
  @ValidateNested()
  @Type(() => CheckExpectDto)
  expect?: CheckExpectDto;
}

export class BackendCheckDto {
  @ApiPropertyOptional({
    enum: CHECK_TYPES,
    default: 'tcp',
    description: "'cmpp' logs in to the server with check.cmpp's account (docs/cmpp.md)",
  })
  @IsOptional()
  @Follows(RULES.check.type)
  type?: CheckType;

  @ApiPropertyOptional({
    description: 'ms between checks; also a duration as HAProxy writes it (5s, 500ms, 1m); read back as ms',
    default: 5000,
    minimum: RULES.check.inter.min,
    maximum: RULES.check.inter.max,
  })
  @IsOptional()
  @Follows(RULES.check.inter)
  inter?: number;

  @ApiPropertyOptional({ default: 3, minimum: RULES.check.fall.min, maximum: RULES.check.fall.max })
  @IsOptional()
  @Follows(RULES.check.fall)
  fall?: number;

  @ApiPropertyOptional({ default: 2, minimum: RULES.check.rise.min, maximum: RULES.check.rise.max })
  @IsOptional()
  @Follows(RULES.check.rise)
  rise?: number;

  @ApiPropertyOptional({
    description: 'ms, or a duration like 5s; default: defaults.timeouts.check',
    minimum: RULES.check.timeout.min,
    maximum: RULES.check.timeout.max,
  })
  @IsOptional()
  @Follows(RULES.check.timeout)
  timeout?: number;

  @ApiPropertyOptional({
    description:
      "HAProxy's fastinter: ms (or a duration) between checks while a server moves between UP and DOWN; default: inter",
    minimum: RULES.check.fastinter.min,
    maximum: RULES.check.fastinter.max,
  })
  @IsOptional()
  @Follows(RULES.check.fastinter)
  fastinter?: number;

  @ApiPropertyOptional({
    description:
      "HAProxy's downinter: ms (or a duration) between checks while a server is DOWN; default: inter",
    minimum: RULES.check.downinter.min,
    maximum: RULES.check.downinter.max,
  })
  @IsOptional()
  @Follows(RULES.check.downinter)
  downinter?: number;

  @ApiPropertyOptional({
    type: [CheckStepDto],
    maxItems: LIMITS.checkSteps,
    description:
      "type tcp: HAProxy's tcp-check sequence, run in order after the connect; L7OK when every step passes",
  })
  @IsOptional()
  @IsArrayOf({ noun: 'steps', max: LIMITS.checkSteps })
  @ValidateNested({ each: true })
  @Type(() => CheckStepDto)
  steps?: CheckStepDto[];

  @ApiPropertyOptional({ type: CmppCheckDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => CmppCheckDto)
  cmpp?: CmppCheckDto;
}

// ---- CMPP limits (docs/cmpp-session-control.md) ----

export class LoginRateDto {
  @ApiProperty({
    description: 'Logins allowed per `per` (also the burst: a token bucket of this many tokens)',
    minimum: RULES.cmppLimits.logins.min,
    maximum: RULES.cmppLimits.logins.max,
    example: 10,
  })
  @Follows(RULES.cmppLimits.logins)
  logins: number;

  @ApiProperty({
    description: 'ms over which `logins` tokens refill; also a duration like 1s or 1m; read back as ms',
    minimum: RULES.cmppLimits.per.min,
    maximum: RULES.cmppLimits.per.max,
    example: 1000,
  })
  @Follows(RULES.cmppLimits.per)
  per: number;
}

export class BackendLoginRateDto {
  @ApiPropertyOptional({
    type: LoginRateDto,
    description: 'Logins per SP account (Source_Addr of the CONNECT)',
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => LoginRateDto)
  perAccount?: LoginRateDto;

  @ApiPropertyOptional({ type: LoginRateDto, description: 'Logins per client source address' })
  @IsOptional()
  @ValidateNested()
  @Type(() => LoginRateDto)
  perSource?: LoginRateDto;
}

export class CmppAccountLimitsDto {
  @ApiProperty({ description: 'SP account (Source_Addr): 1 to 6 bytes (UTF-8)', example: '900001' })
  @Follows(RULES.cmppLimits.account)
  account: string;

  @ApiPropertyOptional({
    description: "This account's cap in place of maxConnectionsPerAccount (0 refuses every login)",
    minimum: RULES.cmppLimits.maxConnections.min,
    maximum: RULES.cmppLimits.maxConnections.max,
  })
  @IsOptional()
  @Follows(RULES.cmppLimits.maxConnections)
  maxConnections?: number;

  @ApiPropertyOptional({
    type: LoginRateDto,
    description: "This account's login rate in place of loginRate.perAccount",
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => LoginRateDto)
  loginRate?: LoginRateDto;
}

export class BackendCmppDto {
  @ApiPropertyOptional({
    description:
      'Hard limit of a lossless close (ms, or a duration like 5s): past it the legs are closed anyway and the ' +
      'messages in flight counted as ambiguous. Default 5000',
    minimum: RULES.cmppClose.closeTimeout.min,
    maximum: RULES.cmppClose.closeTimeout.max,
    example: 5000,
  })
  @IsOptional()
  @Follows(RULES.cmppClose.closeTimeout)
  closeTimeout?: number;

  @ApiPropertyOptional({
    description: 'Live sessions per SP account through this backend; a CONNECT past it is refused (status 5)',
    minimum: RULES.cmppLimits.maxConnectionsPerAccount.min,
    maximum: RULES.cmppLimits.maxConnectionsPerAccount.max,
  })
  @IsOptional()
  @Follows(RULES.cmppLimits.maxConnectionsPerAccount)
  maxConnectionsPerAccount?: number;

  @ApiPropertyOptional({ type: BackendLoginRateDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => BackendLoginRateDto)
  loginRate?: BackendLoginRateDto;

  @ApiPropertyOptional({ type: [CmppAccountLimitsDto], maxItems: LIMITS.cmppAccountOverrides })
  @IsOptional()
  @IsArrayOf({ noun: 'accounts', max: LIMITS.cmppAccountOverrides })
  @ValidateNested({ each: true })
  @Type(() => CmppAccountLimitsDto)
  accounts?: CmppAccountLimitsDto[];
}

/** HAProxy's `timeout connect|server|tunnel` are backend properties: a backend may set them for itself. */
export class BackendTimeoutsDto {
  @ApiPropertyOptional({
    description: 'Connect timeout (ms; also a duration like 5s); absent: defaults.timeouts.connect',
  })
  @IsOptional()
  @Follows(RULES.sectionTimeout)
  connect?: number;

  @ApiPropertyOptional({
    description: 'Idle limit on the server side (ms or a duration); absent: defaults.timeouts.server',
  })
  @IsOptional()
  @Follows(RULES.sectionTimeout)
  server?: number;

  @ApiPropertyOptional({
    description:
      'Once connected, the idle limit in place of client and server (ms or a duration); absent: defaults.timeouts.tunnel',
  })
  @IsOptional()
  @Follows(RULES.sectionTimeout)
  tunnel?: number;
}

export class CreateBackendDto {
  @ApiProperty({ pattern: NAME_PATTERN.source, example: 'ismg' })
  @Follows(RULES.backend.name)
  name: string;

  @ApiPropertyOptional({ enum: BALANCE_ALGORITHMS, default: 'source' })
  @IsOptional()
  @Follows(RULES.backend.balance)
  balance?: BalanceAlgorithm;

  @ApiPropertyOptional({ enum: HASH_TYPES, default: 'consistent' })
  @IsOptional()
  @Follows(RULES.backend.hashType)
  hashType?: HashType;

  @ApiPropertyOptional({ type: BackendCheckDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => BackendCheckDto)
  check?: BackendCheckDto;

  @ApiPropertyOptional({
    enum: SEND_PROXY,
    default: 'none',
    description: 'PROXY protocol toward servers',
  })
  @IsOptional()
  @Follows(RULES.backend.sendProxy)
  sendProxy?: SendProxy;

  @ApiPropertyOptional({ enum: ON_MARKED_DOWN, default: 'keep' })
  @IsOptional()
  @Follows(RULES.backend.onMarkedDown)
  onMarkedDown?: OnMarkedDown;

  @ApiPropertyOptional({
    description:
      'Attempts after a failed connect (HAProxy `retries`), 0 to 100; absent: 1 (docs/config-model.md)',
    minimum: RULES.retry.retries.min,
    maximum: RULES.retry.retries.max,
  })
  @IsOptional()
  @Follows(RULES.retry.retries)
  retries?: number;

  @ApiPropertyOptional({
    description:
      'Whether a retry may go to another server (HAProxy `option redispatch`); absent: true (docs/config-model.md)',
  })
  @IsOptional()
  @Follows(RULES.retry.redispatch)
  redispatch?: boolean;

  @ApiPropertyOptional({
    type: BackendTimeoutsDto,
    description:
      "This backend's own timeouts in place of defaults.timeouts (docs/config-model.md); null clears",
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => BackendTimeoutsDto)
  timeouts?: BackendTimeoutsDto;

  @ApiPropertyOptional({
    type: BackendCmppDto,
    description:
      'Per-account connection caps and login rate limits, enforced on inspect: cmpp frontends; the hard limit of ' +
      'the lossless close (docs/cmpp-session-control.md)',
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => BackendCmppDto)
  cmpp?: BackendCmppDto;

  @ApiPropertyOptional({ type: [CreateServerDto], maxItems: LIMITS.servers })
  @IsOptional()
  @IsArrayOf({ noun: 'servers', max: LIMITS.servers })
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
  @ApiProperty({ enum: CMPP_VERSIONS }) version: CmppVersion;
}

export class BackendCheckResponseDto {
  @ApiProperty({ enum: CHECK_TYPES }) type: CheckType;
  @ApiProperty() inter: number;
  @ApiProperty() fall: number;
  @ApiProperty() rise: number;
  @ApiPropertyOptional() timeout?: number;
  @ApiPropertyOptional() fastinter?: number;
  @ApiPropertyOptional() downinter?: number;
  @ApiPropertyOptional({ type: [CheckStepDto] }) steps?: CheckStepDto[];
  @ApiPropertyOptional({ type: CmppCheckResponseDto }) cmpp?: CmppCheckResponseDto;
}

export class BackendResponseDto {
  @ApiProperty() name: string;
  @ApiProperty({ enum: BALANCE_ALGORITHMS }) balance: BalanceAlgorithm;
  @ApiProperty({ enum: HASH_TYPES }) hashType: HashType;
  @ApiProperty({ type: BackendCheckResponseDto }) check: BackendCheckResponseDto;
  @ApiProperty({ enum: SEND_PROXY }) sendProxy: SendProxy;
  @ApiProperty({ enum: ON_MARKED_DOWN }) onMarkedDown: OnMarkedDown;
  @ApiPropertyOptional() retries?: number;
  @ApiPropertyOptional() redispatch?: boolean;
  @ApiPropertyOptional({ type: BackendTimeoutsDto }) timeouts?: BackendTimeoutsDto;
  @ApiPropertyOptional({ type: BackendCmppDto }) cmpp?: BackendCmppDto;
  @ApiProperty({ type: [ServerResponseDto] }) servers: ServerResponseDto[];
}

export class BackendChangeResponseDto extends BackendResponseDto {
  @ApiProperty() revision: number;
  @ApiProperty() changed: boolean;
}
