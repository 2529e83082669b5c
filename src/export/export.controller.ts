import { Controller, Get, Param, Res } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { RequireRole } from '../auth/roles.js';
import { revisionTag } from '../common/revision-tag.js';
import { numericParam } from '../common/validation.js';
import { HaproxyExportService, type HaproxyFile } from './export.service.js';

const revisionId = numericParam('id', 'a revision number');
const DESCRIPTION =
  'A haproxy.cfg that HAProxy 2.6 accepts, configuring the same listeners, servers, balancing, checks and ' +
  'timeouts. Settings without an HAProxy equivalent are said in comments; CMPP check secrets are never ' +
  'exported (docs/haproxy-export.md). Downloaded as tether-r<revision>.cfg; ETag = revision.';

/** Reads only: nothing here changes the config, so nothing is audited (as every GET). */
@ApiTags('export')
@Controller()
export class HaproxyExportController {
  constructor(private readonly exporter: HaproxyExportService) {}

  @Get('export/haproxy.cfg')
  @RequireRole('viewer')
  @ApiOperation({ summary: 'The config in effect as a haproxy.cfg', description: DESCRIPTION })
  @ApiProduces('text/plain')
  async head(@Res({ passthrough: true }) response: Response): Promise<string> {
    return send(response, await this.exporter.head());
  }

  @Get('revisions/:id/haproxy.cfg')
  @RequireRole('viewer')
  @ApiOperation({ summary: 'A stored revision as a haproxy.cfg (404 once pruned)', description: DESCRIPTION })
  @ApiProduces('text/plain')
  async revision(
    @Param('id', revisionId) id: number,
    @Res({ passthrough: true }) response: Response,
  ): Promise<string> {
    return send(response, await this.exporter.revision(id));
  }
}

function send(response: Response, file: HaproxyFile): string {
  response.setHeader('Content-Type', 'text/plain; charset=utf-8');
  response.setHeader('Content-Disposition', `attachment; filename="tether-r${file.revision}.cfg"`);
  response.setHeader('ETag', revisionTag(file.revision));
  return file.text;
}
