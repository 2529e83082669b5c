import { Body, Controller, Get, HttpCode, Post, Put, UseInterceptors } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiQuery, ApiTags } from '@nestjs/swagger';
import { Audited } from '../audit/audited.decorator.js';
import { RequireRole } from '../auth/roles.js';
import { Change, type ChangeContext } from '../common/change-context.js';
import { ConfigDto, ConfigChangeResponseDto, ConfigResponseDto, ValidateResponseDto } from './config.dto.js';
import { ConfigDocumentService } from './config-document.service.js';
import { RevisionInBody, RevisionTagInterceptor } from './revision-tag.interceptor.js';

@ApiTags('config')
@Controller('config')
@UseInterceptors(RevisionTagInterceptor)
export class ConfigController {
  constructor(private readonly config: ConfigDocumentService) {}

  @Get()
  @RequireRole('viewer')
  @ApiOkResponse({
    type: ConfigResponseDto,
    description: 'The whole snapshot in effect (secrets masked); ETag = revision',
  })
  get(): ConfigResponseDto {
    return this.config.get();
  }

  @Put()
  @RequireRole('admin')
  @RevisionInBody()
  @Audited('config.replace')
  @ApiHeader({
    name: 'If-Match',
    required: false,
    description: '"<revision id>": refuse (412) if the config moved on',
  })
  @ApiQuery({ name: 'message', required: false, description: 'Change message stored on the revision' })
  @ApiOkResponse({
    type: ConfigChangeResponseDto,
    description: 'Applied live and stored as one revision (kind replace)',
  })
  replace(@Body() dto: ConfigDto, @Change() change: ChangeContext): Promise<ConfigChangeResponseDto> {
    return this.config.replace(dto, change);
  }

  @Post('validate')
  @HttpCode(200)
  @RequireRole('viewer')
  @RevisionInBody()
  @ApiHeader({
    name: 'If-Match',
    required: false,
    description: '"<revision id>": answers 412 as PUT /config would if the config moved on',
  })
  @ApiOkResponse({
    type: ValidateResponseDto,
    description: 'Dry run: diff against the config in effect and impact on live traffic',
  })
  validate(@Body() dto: ConfigDto): Promise<ValidateResponseDto> {
    return this.config.validate(dto);
  }
}
