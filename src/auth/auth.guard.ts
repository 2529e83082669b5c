import {
  ForbiddenException,
  Injectable,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { AUDIT_ACTION } from '../audit/audited.decorator.js';
import { auditTargetOf } from '../audit/audit.interceptor.js';
import { AuditService } from '../audit/audit.service.js';
import { sourceAddressOf } from '../common/change-context.js';
import { startChangeTiming } from '../common/change-timing.js';
import { jsonBodyOptions, PUBLIC_JSON_BODY_LIMIT, readJsonBody } from '../common/json-body.js';
import { readTextBody, TEXT_BODY } from '../common/text-body.js';
import { AuthService } from './auth.service.js';
import { PUBLIC_ROUTE, REQUIRED_ROLE, roleAllows, type Actor, type Role } from './roles.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

type AuthenticatedRequest = Request & { user?: Actor; loginSessionId?: number };

/**
 * The one gate for every route: @Public routes pass, @RequireRole routes need credentials of at least that role,
 * and a route with neither is closed, so a forgotten decorator fails safe. The console's static files are the only
 * undecorated routes let through. The JSON body is read only once a request has passed, so an anonymous caller
 * cannot make the server parse anything but the small body of a public route (the login).
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly auth: AuthService,
    private readonly audit: AuditService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const response = context.switchToHttp().getResponse<Response>();
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) {
      // Decided by the route matched, not by the path's spelling (a trailing slash or upper case reach it too):
      // a public route that changes state (the login, the logout) must come from our own pages or a script.
      refuseCrossSite(request);
      await readJsonBody(request, response, PUBLIC_JSON_BODY_LIMIT);
      return true;
    }
    const needed = this.reflector.getAllAndOverride<Role | undefined>(REQUIRED_ROLE, targets);
    if (!needed) {
      if (isConsoleAsset(request)) return true;
      throw new ForbiddenException(`${request.method} ${request.path} has no access rule, so it is closed`);
    }

    // A change's Server-Timing starts here: its `auth` step is what the request costs before its route runs.
    const timing = SAFE_METHODS.has(request.method) ? undefined : startChangeTiming(request);
    const found = await this.auth.authenticate(request).catch((error: unknown) => {
      if (error instanceof UnauthorizedException) challenge(context);
      throw error;
    });
    if (!found) {
      challenge(context);
      throw new UnauthorizedException(
        'authentication required: log in (POST /api/v1/auth/login) or send "Authorization: Bearer <token>"',
      );
    }
    request.user = found.actor;
    request.loginSessionId = found.loginSessionId;
    // A cookie rides along on any request the browser makes; make sure a state change comes from our own pages.
    if (found.loginSessionId !== undefined && !request.headers.authorization) refuseCrossSite(request);

    if (!roleAllows(found.actor.role, needed)) {
      if (!SAFE_METHODS.has(request.method)) {
        await this.audit.recordDenied({
          actor: found.actor,
          sourceAddress: sourceAddressOf(request),
          action:
            this.reflector.get<string>(AUDIT_ACTION, context.getHandler()) ??
            `${request.method} ${(request.route as { path?: string } | undefined)?.path ?? request.path}`,
          target: auditTargetOf(request),
          detail: `needs role ${needed}`,
        });
      }
      throw new ForbiddenException(
        `this needs the ${needed} role; ${found.actor.username} has ${found.actor.role}`,
      );
    }
    // A route taking a file as it is (@TextBody) reads text/plain instead of JSON.
    const textLimit = this.reflector.get<string | undefined>(TEXT_BODY, context.getHandler());
    const read = textLimit
      ? await readTextBody(request, response, textLimit)
      : await readJsonBody(request, response, jsonBodyOptions.limit);
    if (read) {
      // A body can take minutes to arrive (up to the server's request timeout): the credentials checked on the
      // headers may have been revoked, or their user deleted or demoted, meanwhile. Act with what holds now.
      await this.recheckAfterBody(context, request, needed);
    }
    timing?.mark('auth');
    return true;
  }

  private async recheckAfterBody(context: ExecutionContext, request: AuthenticatedRequest, needed: Role) {
    const now = await this.auth.recheck(request);
    if (!now) {
      challenge(context);
      throw new UnauthorizedException('the credentials were revoked while the request was being sent');
    }
    if (!roleAllows(now.actor.role, needed)) {
      throw new ForbiddenException(
        `this needs the ${needed} role; ${now.actor.username} has ${now.actor.role} now`,
      );
    }
    request.user = now.actor;
  }
}

/** GET/HEAD outside the API and /metrics: the console's files, served without credentials so the login page loads. */
function isConsoleAsset(request: Request): boolean {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  const path = request.path;
  return !(
    path === '/api' ||
    path.startsWith('/api/') ||
    path === '/metrics' ||
    path.startsWith('/metrics/')
  );
}

function refuseCrossSite(request: Request): void {
  if (SAFE_METHODS.has(request.method)) return;
  const site = request.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') {
    throw new ForbiddenException('cross-site request refused');
  }
  const origin = request.headers.origin;
  if (origin && origin !== 'null') {
    let host: string | undefined;
    try {
      host = new URL(origin).host;
    } catch {
      host = undefined;
    }
    if (host !== request.headers.host)
      throw new ForbiddenException('cross-site request refused: Origin does not match Host');
  } else if (origin === 'null') {
    throw new ForbiddenException('cross-site request refused: opaque Origin');
  }
}

function challenge(context: ExecutionContext): void {
  context.switchToHttp().getResponse<Response>().setHeader('WWW-Authenticate', 'Bearer realm="tether"');
}
