import { Body, Controller, HttpCode, Post, Query, UseFilters, UseInterceptors } from '@nestjs/common';
import {
  ApiBody,
  ApiConsumes,
  ApiExtraModels,
  ApiHeader,
  ApiOkResponse,
  ApiQuery,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import { Audited } from '../audit/audited.decorator.js';
import { RequireRole } from '../auth/roles.js';
import { Change, type ChangeContext } from '../common/change-context.js';
import { ValidationError } from '../common/errors.js';
import { TextBody } from '../common/text-body.js';
import { RevisionTagInterceptor } from '../config/revision-tag.interceptor.js';
import { ImportDryRunDto, ImportResultDto } from './import.dto.js';
import { ImportExceptionFilter } from './import-warnings.js';
import { HaproxyImportService } from './import.service.js';

/** Largest haproxy.cfg accepted: the biggest real files are a few hundred kilobytes. */
export const HAPROXY_CFG_LIMIT = '1mb';

@ApiTags('import')
@Controller('import')
@UseInterceptors(RevisionTagInterceptor)
@UseFilters(ImportExceptionFilter)
export class ImportController {
  constructor(private readonly imports: HaproxyImportService) {}

  @Post('haproxy')
  @HttpCode(200)
  @RequireRole('admin')
  @TextBody(HAPROXY_CFG_LIMIT)
  @Audited('config.import')
  @ApiConsumes('text/plain')
  @ApiBody({ schema: { type: 'string' }, description: 'haproxy.cfg as it is (at most 1 MB)' })
  @ApiHeader({
    name: 'If-Match',
    required: false,
    description: '"<revision id>": refuse (412) if the config moved on',
  })
  @ApiQuery({
    name: 'dryRun',
    required: false,
    type: Boolean,
    description: 'Answer what the import would do; change nothing',
  })
  @ApiQuery({
    name: 'strict',
    required: false,
    type: Boolean,
    description: 'Refuse mode http sections, several binds and renamed names instead of warning',
  })
  @ApiQuery({ name: 'message', required: false, description: 'Change message stored on the revision' })
  @ApiExtraModels(ImportResultDto, ImportDryRunDto)
  @ApiOkResponse({
    schema: { oneOf: [{ $ref: getSchemaPath(ImportResultDto) }, { $ref: getSchemaPath(ImportDryRunDto) }] },
    description:
      'Applied live as one revision (kind import), or with dryRun=true the config, diff, impact and warnings',
  })
  haproxy(
    @Body() body: unknown,
    @Query('dryRun') dryRun: unknown,
    @Query('strict') strict: unknown,
    @Change() change: ChangeContext,
  ): Promise<ImportResultDto | ImportDryRunDto> {
    const text = typeof body === 'string' ? body : '';
    if (flag('dryRun', dryRun)) return this.imports.dryRun(text, flag('strict', strict));
    return this.imports.apply(text, flag('strict', strict), change);
  }
}

function flag(name: string, value: unknown): boolean {
  if (value === undefined || value === 'false' || value === '0') return false;
  if (value === 'true' || value === '1' || value === '') return true;
  throw new ValidationError(`${name} must be true or false`, name);
}
