import { Controller, Get, HttpCode, Param, Post, Query, UseInterceptors } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { Audited } from '../audit/audited.decorator.js';
import { RequireRole } from '../auth/roles.js';
import { Change, type ChangeContext } from '../common/change-context.js';
import { numericParam } from '../common/validation.js';
import { ConfigChangeResponseDto, ValidateResponseDto } from '../config/config.dto.js';
import { RevisionTagInterceptor } from '../config/revision-tag.interceptor.js';
import {
  DiffQueryDto,
  ListRevisionsQueryDto,
  RevisionDiffDto,
  RevisionDto,
  RevisionListDto,
} from './revision.dto.js';
import { RevisionsService } from './revisions.service.js';

const revisionId = numericParam('id', 'a revision number');

@ApiTags('revisions')
@Controller('revisions')
export class RevisionsController {
  constructor(private readonly revisions: RevisionsService) {}

  @Get()
  @RequireRole('viewer')
  @ApiOkResponse({ type: RevisionListDto })
  list(@Query() query: ListRevisionsQueryDto): Promise<RevisionListDto> {
    return this.revisions.list(query);
  }

  @Get(':id')
  @RequireRole('viewer')
  @ApiOkResponse({ type: RevisionDto })
  get(@Param('id', revisionId) id: number): Promise<RevisionDto> {
    return this.revisions.get(id);
  }

  @Get(':id/diff')
  @RequireRole('viewer')
  @ApiOkResponse({ type: RevisionDiffDto })
  diff(@Param('id', revisionId) id: number, @Query() query: DiffQueryDto): Promise<RevisionDiffDto> {
    return this.revisions.diff(id, query);
  }

  @Post(':id/rollback/validate')
  @HttpCode(200)
  @RequireRole('viewer')
  @ApiOperation({
    summary: 'Dry run of a rollback: the diff from the config in effect to revision :id and its live impact',
  })
  @ApiOkResponse({ type: ValidateResponseDto })
  validateRollback(@Param('id', revisionId) id: number): Promise<ValidateResponseDto> {
    return this.revisions.validateRollback(id);
  }

  @Post(':id/rollback')
  @HttpCode(200)
  @RequireRole('admin')
  @Audited('revision.rollback')
  @UseInterceptors(RevisionTagInterceptor)
  @ApiOperation({ summary: 'New revision (kind rollback) with the snapshot of revision :id, applied live' })
  @ApiHeader({ name: 'If-Match', required: false, description: '"<revision id>"; stale → 412' })
  @ApiQuery({ name: 'message', required: false })
  @ApiOkResponse({ type: ConfigChangeResponseDto })
  rollback(
    @Param('id', revisionId) id: number,
    @Change() change: ChangeContext,
  ): Promise<ConfigChangeResponseDto> {
    return this.revisions.rollback(id, change);
  }
}
