import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Put,
  Query,
  UseInterceptors,
} from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import { Audited } from '../audit/audited.decorator.js';
import { RequireRole } from '../auth/roles.js';
import { Change, type ChangeContext } from '../common/change-context.js';
import { CommitResultDto } from '../config/config.dto.js';
import { RevisionTagInterceptor } from '../config/revision-tag.interceptor.js';
import {
  CreateServerDto,
  ReplaceServerDto,
  ServerChangeResponseDto,
  ServerResponseDto,
  ServerStateDto,
  ServerStateResponseDto,
  ShutdownSessionsDto,
  ShutdownSessionsResponseDto,
  UpdateServerDto,
} from './backend.dto.js';
import { BackendsService } from './backends.service.js';
import { gracefulOf, ServerStatesService } from './server-states.service.js';

@ApiTags('backends')
@Controller('backends/:backend/servers')
@UseInterceptors(RevisionTagInterceptor)
@ApiHeader({
  name: 'If-Match',
  required: false,
  description: 'On config changes: "<revision id>"; stale → 412',
})
export class ServersController {
  constructor(
    private readonly backends: BackendsService,
    private readonly states: ServerStatesService,
  ) {}

  @Get()
  @RequireRole('viewer')
  @ApiOkResponse({ type: [ServerResponseDto] })
  list(@Param('backend') backend: string): Promise<ServerResponseDto[]> {
    return this.backends.listServers(backend);
  }

  @Post()
  @RequireRole('admin')
  @Audited('server.create')
  @ApiQuery({ name: 'message', required: false })
  @ApiCreatedResponse({ type: ServerChangeResponseDto })
  create(
    @Param('backend') backend: string,
    @Body() dto: CreateServerDto,
    @Change() change: ChangeContext,
  ): Promise<ServerChangeResponseDto> {
    return this.backends.createServer(backend, dto, change);
  }

  @Get(':server')
  @RequireRole('viewer')
  @ApiOkResponse({ type: ServerResponseDto })
  get(@Param('backend') backend: string, @Param('server') server: string): Promise<ServerResponseDto> {
    return this.backends.getServer(backend, server);
  }

  @Put(':server')
  @RequireRole('admin')
  @Audited('server.replace')
  @ApiQuery({ name: 'message', required: false })
  @ApiOkResponse({ type: ServerChangeResponseDto })
  replace(
    @Param('backend') backend: string,
    @Param('server') server: string,
    @Body() dto: ReplaceServerDto,
    @Change() change: ChangeContext,
  ): Promise<ServerChangeResponseDto> {
    return this.backends.replaceServer(backend, server, dto, change);
  }

  @Patch(':server')
  @RequireRole('operator')
  @Audited('server.update')
  @ApiOperation({ summary: 'Change some fields; the operator role may change `weight` only' })
  @ApiQuery({ name: 'message', required: false })
  @ApiOkResponse({ type: ServerChangeResponseDto })
  update(
    @Param('backend') backend: string,
    @Param('server') server: string,
    @Body() dto: UpdateServerDto,
    @Change() change: ChangeContext,
  ): Promise<ServerChangeResponseDto> {
    return this.backends.updateServer(backend, server, dto, change);
  }

  @Delete(':server')
  @RequireRole('admin')
  @Audited('server.delete')
  @ApiQuery({ name: 'message', required: false })
  @ApiOkResponse({ type: CommitResultDto })
  remove(
    @Param('backend') backend: string,
    @Param('server') server: string,
    @Change() change: ChangeContext,
  ): Promise<CommitResultDto> {
    return this.backends.removeServer(backend, server, change);
  }

  @Put(':server/state')
  @RequireRole('operator')
  @Audited('server.state')
  @ApiOperation({
    summary: 'Admin state ready / drain / maint (runtime state: no revision, untouched by rollback)',
  })
  @ApiOkResponse({ type: ServerStateResponseDto })
  setState(
    @Param('backend') backend: string,
    @Param('server') server: string,
    @Body() dto: ServerStateDto,
    @Change() change: ChangeContext,
  ): Promise<ServerStateResponseDto> {
    return this.states.setState(backend, server, dto, change);
  }

  @Post(':server/shutdown-sessions')
  @HttpCode(200)
  @RequireRole('operator')
  @Audited('server.shutdown-sessions')
  @ApiOperation({
    summary: "Closes the server's sessions; graceful: the lossless CMPP close on inspected frontends",
  })
  @ApiQuery({ name: 'graceful', required: false, enum: ['true', 'false'] })
  @ApiOkResponse({ type: ShutdownSessionsResponseDto })
  shutdownSessions(
    @Param('backend') backend: string,
    @Param('server') server: string,
    @Body() dto: ShutdownSessionsDto,
    @Query('graceful') graceful: string | undefined,
    @Change() change: ChangeContext,
  ): Promise<ShutdownSessionsResponseDto> {
    return this.states.shutdownSessions(backend, server, change, gracefulOf(dto, graceful));
  }
}
