import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { Response } from 'express';
import { map, type Observable } from 'rxjs';
import { revisionTag } from '../common/revision-tag.js';
import { ConfigService } from './config.service.js';

/** Sets `ETag: "<revision>"`: the body's `revision` when it has one, else the revision in effect. */
@Injectable()
export class RevisionTagInterceptor implements NestInterceptor {
  constructor(private readonly config: ConfigService) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const response = context.switchToHttp().getResponse<Response>();
    return next.handle().pipe(
      map((body: unknown) => {
        const revision = (body as { revision?: unknown } | null)?.revision;
        response.setHeader(
          'ETag',
          revisionTag(typeof revision === 'number' ? revision : this.config.revision),
        );
        return body;
      }),
    );
  }
}
