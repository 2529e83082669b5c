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
  BackendChangeResponseDto,
  BackendResponseDto,
  CreateBackendDto,
  ReplaceBackendDto,
  ShutdownSessionsDto,
  ShutdownSessionsResponseDto,
  UpdateBackendDto,
} from './backend.dto.js';
import { BackendsService } from './backends.service.js';
import { gracefulOf, ServerStatesService } from './server-states.service.js';

@ApiTags('backends')
@Controller('backends')
@UseInterceptors(RevisionTagInterceptor)
@ApiHeader({ name: 'If-Match', required: false, description: 'On changes: "<revision id>"; stale → 412' })
@ApiQuery({ name: 'message', required: false, description: 'On changes: message stored on the revision' })
export class BackendsController {
  constructor(
    private readonly backends: BackendsService,
    private readonly states: ServerStatesService,
  ) {}

  @Post(':name/shutdown-sessions')
  @HttpCode(200)
  @RequireRole('operator')
  @Audited('backend.shutdown-sessions')
  @ApiOperation({
    summary: 'Closes every session of the backend; graceful: the lossless CMPP close on inspected frontends',
  })
  @ApiQuery({ name: 'graceful', required: false, enum: ['true', 'false'] })
  @ApiOkResponse({ type: ShutdownSessionsResponseDto })
  shutdownSessions(
    @Param('name') name: string,
    @Body() dto: ShutdownSessionsDto,
    @Query('graceful') graceful: string | undefined,
    @Change() change: ChangeContext,
  ): Promise<ShutdownSessionsResponseDto> {
    return this.states.shutdownBackendSessions(name, change, gracefulOf(dto, graceful));
  }

  @Get()
  @RequireRole('viewer')
  @ApiOkResponse({ type: [BackendResponseDto] })
  list(): Promise<BackendResponseDto[]> {
    return this.backends.list();
  }

  @Post()
  @RequireRole('admin')
  @Audited('backend.create')
  @ApiCreatedResponse({ type: BackendChangeResponseDto })
  create(@Body() dto: CreateBackendDto, @Change() change: ChangeContext): Promise<BackendChangeResponseDto> {
    return this.backends.create(dto, change);
  }

  @Get(':name')
  @RequireRole('viewer')
  @ApiOkResponse({ type: BackendResponseDto })
  get(@Param('name') name: string): Promise<BackendResponseDto> {
    return this.backends.get(name);
  }

  @Put(':name')
  @RequireRole('admin')
  @Audited('backend.replace')
  @ApiOkResponse({
    type: BackendChangeResponseDto,
    description: 'Leaving out `servers` keeps the current servers',
  })
  replace(
    @Param('name') name: string,
    @Body() dto: ReplaceBackendDto,
    @Change() change: ChangeContext,
  ): Promise<BackendChangeResponseDto> {
    return this.backends.replace(name, dto, change);
  }

  @Patch(':name')
  @RequireRole('admin')
  @Audited('backend.update')
  @ApiOkResponse({ type: BackendChangeResponseDto })
  update(
    @Param('name') name: string,
    @Body() dto: UpdateBackendDto,
    @Change() change: ChangeContext,
  ): Promise<BackendChangeResponseDto> {
    return this.backends.update(name, dto, change);
  }

  @Delete(':name')
  @RequireRole('admin')
  @Audited('backend.delete')
  @ApiOkResponse({ type: CommitResultDto })
  remove(@Param('name') name: string, @Change() change: ChangeContext): Promise<CommitResultDto> {
    return this.backends.remove(name, change);
  }
}
