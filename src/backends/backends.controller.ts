import { Body, Controller, Delete, Get, Param, Patch, Post, Put, UseInterceptors } from '@nestjs/common';
import { ApiCreatedResponse, ApiHeader, ApiOkResponse, ApiQuery, ApiTags } from '@nestjs/swagger';
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
  UpdateBackendDto,
} from './backend.dto.js';
import { BackendsService } from './backends.service.js';

@ApiTags('backends')
@Controller('backends')
@UseInterceptors(RevisionTagInterceptor)
@ApiHeader({ name: 'If-Match', required: false, description: 'On changes: "<revision id>"; stale → 412' })
@ApiQuery({ name: 'message', required: false, description: 'On changes: message stored on the revision' })
export class BackendsController {
  constructor(private readonly backends: BackendsService) {}

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
