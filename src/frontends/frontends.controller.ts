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
  UseInterceptors,
} from '@nestjs/common';
import { ApiCreatedResponse, ApiHeader, ApiOkResponse, ApiQuery, ApiTags } from '@nestjs/swagger';
import { Audited } from '../audit/audited.decorator.js';
import { RequireRole } from '../auth/roles.js';
import { Change, type ChangeContext } from '../common/change-context.js';
import { CommitResultDto } from '../config/config.dto.js';
import { RevisionTagInterceptor } from '../config/revision-tag.interceptor.js';
import {
  CreateFrontendDto,
  FrontendChangeResponseDto,
  FrontendResponseDto,
  ReplaceFrontendDto,
  UpdateFrontendDto,
} from './frontend.dto.js';
import { FrontendsService } from './frontends.service.js';

@ApiTags('frontends')
@Controller('frontends')
@UseInterceptors(RevisionTagInterceptor)
@ApiHeader({ name: 'If-Match', required: false, description: 'On changes: "<revision id>"; stale → 412' })
@ApiQuery({ name: 'message', required: false, description: 'On changes: message stored on the revision' })
export class FrontendsController {
  constructor(private readonly frontends: FrontendsService) {}

  @Get()
  @RequireRole('viewer')
  @ApiOkResponse({ type: [FrontendResponseDto] })
  list(): Promise<FrontendResponseDto[]> {
    return this.frontends.list();
  }

  @Post()
  @RequireRole('admin')
  @Audited('frontend.create')
  @ApiCreatedResponse({ type: FrontendChangeResponseDto })
  create(
    @Body() dto: CreateFrontendDto,
    @Change() change: ChangeContext,
  ): Promise<FrontendChangeResponseDto> {
    return this.frontends.create(dto, change);
  }

  @Get(':name')
  @RequireRole('viewer')
  @ApiOkResponse({ type: FrontendResponseDto })
  get(@Param('name') name: string): Promise<FrontendResponseDto> {
    return this.frontends.get(name);
  }

  @Put(':name')
  @RequireRole('admin')
  @Audited('frontend.replace')
  @ApiOkResponse({ type: FrontendChangeResponseDto })
  replace(
    @Param('name') name: string,
    @Body() dto: ReplaceFrontendDto,
    @Change() change: ChangeContext,
  ): Promise<FrontendChangeResponseDto> {
    return this.frontends.replace(name, dto, change);
  }

  @Patch(':name')
  @RequireRole('admin')
  @Audited('frontend.update')
  @ApiOkResponse({ type: FrontendChangeResponseDto })
  update(
    @Param('name') name: string,
    @Body() dto: UpdateFrontendDto,
    @Change() change: ChangeContext,
  ): Promise<FrontendChangeResponseDto> {
    return this.frontends.update(name, dto, change);
  }

  @Post(':name/retry')
  @HttpCode(200)
  @RequireRole('operator')
  @Audited('frontend.retry')
  @ApiOkResponse({
    type: FrontendResponseDto,
    description:
      'Tries the bind of a FAILED frontend now: 200 with status OPEN when it binds; 409 APPLY_FAILED ' +
      '(cause_code: the errno) when it still cannot; 409 CONFLICT when it is not FAILED',
  })
  retry(@Param('name') name: string, @Change() change: ChangeContext): Promise<FrontendResponseDto> {
    return this.frontends.retry(name, change);
  }

  @Delete(':name')
  @RequireRole('admin')
  @Audited('frontend.delete')
  @ApiOkResponse({ type: CommitResultDto })
  remove(@Param('name') name: string, @Change() change: ChangeContext): Promise<CommitResultDto> {
    return this.frontends.remove(name, change);
  }
}
