// Response and query DTOs of /stats. The response classes describe the runtime's plain stats objects
// for OpenAPI; the runtime's data is returned as it is (it already has exactly these fields).
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsQueryIntegerIn, QueryInteger } from '../../common/validators.js';
import { ACCOUNTS_LIMIT } from '../../runtime/cmpp-stats.js';
import { IsIn, IsOptional } from 'class-validator';
import type {
  AdminState,
  BackendStats,
  CheckStatus,
  CmppAccountStats,
  CmppCommandCounts,
  CmppStats,
  DrainProgress,
  FrontendFailure,
  FrontendStats,
  Health,
  RuntimeStats,
  ServerStats,
  StatsSample,
} from '../../runtime/types.js';

const CHECK_STATUSES = ['', 'INI', 'L4OK', 'L4TOUT', 'L4CON', 'L7OK', 'L7RSP', 'L7TOUT', 'L7STS', 'SOCKERR'];

export class CmppCommandCountsDto implements CmppCommandCounts {
  @ApiProperty() connect: number;
  @ApiProperty() connectResp: number;
  @ApiProperty() submit: number;
  @ApiProperty() submitResp: number;
  @ApiProperty() deliver: number;
  @ApiProperty() deliverResp: number;
  @ApiProperty() activeTest: number;
  @ApiProperty() activeTestResp: number;
  @ApiProperty() terminate: number;
  @ApiProperty() terminateResp: number;
  @ApiProperty({ description: 'Every other command (QUERY, CANCEL, FWD, route commands, unknown ids)' })
  other: number;
}

export class CmppSubmitResultsDto {
  @ApiProperty({ description: 'Result 0' }) ok: number;
  @ApiProperty({ description: 'Result 8: flow control' }) throttled: number;
  @ApiProperty({ description: 'Any other result' }) other: number;
}

export class CmppLatencyDto {
  @ApiProperty({
    type: [Number],
    description: 'Upper bounds of the buckets (ms); one more bucket is open-ended',
  })
  boundsMs: number[];
  @ApiProperty({
    type: [Number],
    description: 'SUBMIT -> SUBMIT_RESP answers per bucket (sums across processes)',
  })
  counts: number[];
  @ApiProperty({ description: 'Sum of the latencies counted (ms)' }) sumMs: number;
  @ApiProperty({ description: 'Upper bound (ms) of the bucket holding the median; -1 when no samples' })
  p50: number;
  @ApiProperty({
    description: 'Upper bound (ms) of the bucket holding the 99th percentile; -1 when no samples',
  })
  p99: number;
}

export class CmppOutstandingDto {
  @ApiProperty({ description: "The client's requests awaiting the server" }) up: number;
  @ApiProperty({ description: "The server's requests (DELIVER, ACTIVE_TEST) awaiting the client" })
  down: number;
}

export class CmppStatsDto implements CmppStats {
  @ApiProperty({ description: 'Inspected sessions started (for an account: CONNECTs naming it)' })
  sessions: number;
  @ApiProperty({ description: 'Sessions whose bytes were not CMPP (relayed untouched, no longer inspected)' })
  notCmpp: number;
  @ApiProperty({ type: CmppCommandCountsDto, description: 'Frames client -> server' })
  up: CmppCommandCountsDto;
  @ApiProperty({ type: CmppCommandCountsDto, description: 'Frames server -> client' })
  down: CmppCommandCountsDto;
  @ApiProperty({ type: CmppSubmitResultsDto }) submitResults: CmppSubmitResultsDto;
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'number' },
    example: { '0': 120, '3': 2 },
    description: 'CONNECT_RESP statuses by code ("0".."9", "other"); only codes seen',
  })
  connectStatus: Record<string, number>;
  @ApiProperty({ type: CmppLatencyDto }) latency: CmppLatencyDto;
  @ApiProperty({ type: CmppOutstandingDto }) outstanding: CmppOutstandingDto;
  @ApiProperty({ description: 'Requests not tracked: a session had 48 distinct ids outstanding one way' })
  untracked: number;
  @ApiProperty({
    description: 'CONNECTs Tether answered itself with status 5: the account at its cap (backend.cmpp)',
  })
  refusedCap: number;
  @ApiProperty({
    description:
      'CONNECTs Tether answered itself with status 5 after a delay: over a login rate (backend.cmpp.loginRate)',
  })
  refusedRate: number;
  @ApiProperty({
    description:
      'Messages (SUBMIT, DELIVER, ...) in flight, unanswered, when their session ended: they may be sent twice or lost',
  })
  ambiguous: number;
}

export class CmppAccountStatsDto extends CmppStatsDto implements CmppAccountStats {
  @ApiProperty({
    example: '901234',
    description:
      'SP account; "*other*" counts the accounts past 10,000 once every row is of an account a gateway let in',
  })
  account: string;
  @ApiProperty({ example: '3.0', description: "Version of the account's last CONNECT" }) version: string;
  @ApiProperty({ description: 'Epoch ms of the last CONNECT naming the account (0: none)' })
  lastConnectAt: number;
}

export class StatsQueryDto {
  @ApiPropertyOptional({
    enum: ['json', 'csv'],
    default: 'json',
    description: "csv: HAProxy 2.6 `show stat` format (text/csv), columns and order exactly as HAProxy's",
  })
  @IsOptional()
  @IsIn(['json', 'csv'])
  format?: 'json' | 'csv';

  @ApiPropertyOptional({
    minimum: 1,
    maximum: ACCOUNTS_LIMIT + 1,
    description:
      'JSON only: `cmppAccounts` holds only the N busiest accounts: the most SUBMITs answered by the gateways, then sent ' +
      '(sorted by account, `*other*` last), ' +
      'and `cmppAccountsTotal` says how many there are. The whole table is up to 10,001 rows (~8 MB); the console asks for 50.',
  })
  @IsOptional()
  @QueryInteger()
  @IsQueryIntegerIn(1, ACCOUNTS_LIMIT + 1)
  accounts?: number;
}

export class HistoryQueryDto {
  @ApiPropertyOptional({
    description: 'Only samples taken after this time (epoch ms)',
    example: 1_700_000_000_000,
  })
  @IsOptional()
  @QueryInteger()
  @IsQueryIntegerIn(0, Number.MAX_SAFE_INTEGER, 'a time in ms since the epoch')
  since?: number;
}

export class FrontendFailureDto implements FrontendFailure {
  @ApiProperty() frontend: string;
  @ApiProperty({ example: 'EADDRINUSE', description: 'errno code' }) code: string;
  @ApiProperty() message: string;
  @ApiPropertyOptional({ type: () => BindDto, description: 'the bind that could not be bound' })
  bind?: { address: string; port: number };
}

export class BindDto {
  @ApiProperty({ example: '0.0.0.0' }) address: string;
  @ApiProperty({ example: 9999 }) port: number;
}

export class FrontendStatsDto implements FrontendStats {
  @ApiProperty() name: string;
  @ApiProperty() backend: string;
  @ApiProperty({
    enum: ['OPEN', 'STOP', 'FAILED'],
    description: 'OPEN listening, STOP disabled, FAILED could not bind',
  })
  status: 'OPEN' | 'STOP' | 'FAILED';
  @ApiPropertyOptional({ type: FrontendFailureDto, description: 'Why the frontend could not bind' })
  error?: FrontendFailureDto;
  @ApiProperty({ type: BindDto, description: 'The first of `binds`' }) bind: BindDto;
  @ApiProperty({ type: [BindDto], description: 'Every address it listens on; OPEN when all of them listen' })
  binds: BindDto[];
  @ApiProperty({ description: 'Current sessions' }) scur: number;
  @ApiProperty({ description: 'Most sessions at once' }) smax: number;
  @ApiProperty({ description: 'Session limit (maxconn)' }) slim: number;
  @ApiProperty({ description: 'Sessions since start' }) stot: number;
  @ApiProperty({ description: 'Bytes from clients' }) bin: number;
  @ApiProperty({ description: 'Bytes to clients' }) bout: number;
  @ApiProperty({ description: 'Connections refused by the allow-list (HAProxy dcon)' }) denied: number;
  @ApiProperty({ description: 'Connections closed because no server was usable' }) noServer: number;
  @ApiProperty({ description: 'Sessions per second over the last second' }) rate: number;
  @ApiProperty({ description: 'Highest rate seen' }) rate_max: number;
  @ApiPropertyOptional({ type: CmppStatsDto, description: 'CMPP inspection (frontends with inspect: cmpp)' })
  cmpp?: CmppStatsDto;
}

export class DrainProgressDto implements DrainProgress {
  @ApiProperty({ description: 'When the drain started, epoch ms' }) startedAt: number;
  @ApiProperty({ type: Number, nullable: true, description: 'When the sessions left are closed, epoch ms' })
  deadlineAt: number | null;
  @ApiProperty({
    enum: ['maint', 'drain'],
    nullable: true,
    description:
      'Where the server goes by itself when no session is left; null: a plain drain, it stays drain',
  })
  then: 'maint' | 'drain' | null;
  @ApiProperty() sessionsLeft: number;
  @ApiProperty({ description: 'Age of the oldest session left, ms' }) oldestSessionAgeMs: number;
  @ApiProperty({ type: Number, nullable: true, description: 'ms until the deadline (0 once passed)' })
  timeLeftMs: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'When the deadline closed the sessions left' })
  closedAt: number | null;
  @ApiProperty({ description: 'Sessions the deadline closed' }) closed: number;
}

export class ServerStatsDto implements ServerStats {
  @ApiProperty() backend: string;
  @ApiProperty() name: string;
  @ApiProperty() address: string;
  @ApiProperty() port: number;
  @ApiProperty({
    example: 'UP',
    description:
      "HAProxy's combined word: UP, DOWN, MAINT, DRAIN, 'UP 1/3' (going down), 'DOWN 1/2' (going up), 'no check'",
  })
  status: string;
  @ApiProperty({ enum: ['UP', 'DOWN'], description: 'What the checks say, regardless of admin state' })
  health: Health;
  @ApiProperty({ enum: ['ready', 'drain', 'maint'], description: "The operator's admin state" })
  adminState: AdminState;
  @ApiProperty({ description: 'Whether health checks run for this server' }) checked: boolean;
  @ApiProperty() weight: number;
  @ApiProperty() backup: boolean;
  @ApiProperty() scur: number;
  @ApiProperty() smax: number;
  @ApiProperty({ description: 'maxconn, 0 = no limit' }) slim: number;
  @ApiProperty() stot: number;
  @ApiProperty() bin: number;
  @ApiProperty() bout: number;
  @ApiProperty({ description: 'Failed connections to the server' }) econ: number;
  @ApiProperty({ description: 'Connection retries' }) wretr: number;
  @ApiProperty({ description: 'Redispatches to another server' }) wredis: number;
  @ApiProperty({ description: 'Times chosen by the balancer' }) lbtot: number;
  @ApiProperty({ description: 'Failed checks' }) chkfail: number;
  @ApiProperty({ description: 'UP to DOWN transitions' }) chkdown: number;
  @ApiProperty({ description: 'Seconds since the last state change' }) lastchg: number;
  @ApiProperty({ description: 'Epoch ms of the last state change' }) lastChangeAt: number;
  @ApiProperty({ description: 'Seconds spent DOWN' }) downtime: number;
  @ApiProperty() rate: number;
  @ApiProperty() rate_max: number;
  @ApiProperty({ enum: CHECK_STATUSES, example: 'L4OK' }) check_status: CheckStatus | '';
  @ApiProperty({ description: 'ms, -1 when unknown' }) check_duration: number;
  @ApiProperty({ example: 'Connection refused' }) check_desc: string;
  @ApiPropertyOptional({
    description:
      "The last check's layer-7 code when its protocol has one: a CMPP login's CONNECT_RESP status",
    example: 3,
  })
  check_code?: number;
  @ApiProperty({ description: 'Epoch ms of the last check, 0 when never' }) lastCheckAt: number;
  @ApiProperty({ description: "Age in ms of the server's oldest live session (drain progress)" })
  oldestSessionAge: number;
  @ApiPropertyOptional({
    type: CmppStatsDto,
    description: 'CMPP inspection of the inspected sessions it carried',
  })
  cmpp?: CmppStatsDto;
  @ApiPropertyOptional({ type: DrainProgressDto, description: "While in drain: the drain's progress" })
  drain?: DrainProgressDto;
}

export class BackendStatsDto implements BackendStats {
  @ApiProperty() name: string;
  @ApiProperty({ example: 'source' }) balance: string;
  @ApiProperty({ enum: ['UP', 'DOWN'] }) status: 'UP' | 'DOWN';
  @ApiProperty() scur: number;
  @ApiProperty() smax: number;
  @ApiProperty() stot: number;
  @ApiProperty() bin: number;
  @ApiProperty() bout: number;
  @ApiProperty() econ: number;
  @ApiProperty() wretr: number;
  @ApiProperty() wredis: number;
  @ApiProperty() lbtot: number;
  @ApiProperty({
    description:
      "Times the backend itself went DOWN (no server left in service), as HAProxy's backend chkdown; not the sum of its servers'",
  })
  chkdown: number;
  @ApiProperty({ description: "Seconds since the backend's last UP/DOWN change" }) lastchg: number;
  @ApiProperty({ description: 'Seconds the backend spent DOWN' }) downtime: number;
  @ApiProperty() rate: number;
  @ApiProperty() rate_max: number;
  @ApiProperty({ description: 'Usable active servers' }) act: number;
  @ApiProperty({ description: 'Usable backup servers' }) bck: number;
  @ApiProperty({ type: [ServerStatsDto] }) servers: ServerStatsDto[];
}

export class StatsResponseDto implements RuntimeStats {
  @ApiProperty({ description: 'When the runtime took these numbers (epoch ms)' }) at: number;
  @ApiProperty({ description: 'Runtime uptime in seconds' }) uptime: number;
  @ApiProperty({ type: [FrontendStatsDto] }) frontends: FrontendStatsDto[];
  @ApiProperty({ type: [BackendStatsDto] }) backends: BackendStatsDto[];
  @ApiPropertyOptional({
    type: [CmppAccountStatsDto],
    description:
      'CMPP inspection per SP account (at most 10,000 plus "*other*"); absent when nothing was inspected',
  })
  cmppAccounts?: CmppAccountStatsDto[];
  @ApiPropertyOptional({
    description:
      'With `?accounts=N`: how many rows the whole account table has (cmppAccounts holds N of them)',
  })
  cmppAccountsTotal?: number;
}

/** Data of the SSE `stats` event: GET /stats plus the server's clock. */
export class StatsEventDto extends StatsResponseDto {
  @ApiProperty({ description: "The server's clock when the event was sent (epoch ms)" }) serverTime: number;
}

export class SampleTotalsDto {
  @ApiProperty() scur: number;
  @ApiProperty() stot: number;
  @ApiProperty() bin: number;
  @ApiProperty() bout: number;
}

export class StatsSampleDto implements StatsSample {
  @ApiProperty({ description: 'Epoch ms' }) t: number;
  @ApiProperty({
    type: 'object',
    additionalProperties: { $ref: '#/components/schemas/SampleTotalsDto' },
    description: 'Keyed by frontend name',
  })
  frontends: Record<string, SampleTotalsDto>;
  @ApiProperty({
    type: 'object',
    additionalProperties: { $ref: '#/components/schemas/SampleTotalsDto' },
    description: 'Keyed "backend/server"',
  })
  servers: Record<string, SampleTotalsDto>;
}
