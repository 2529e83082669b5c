import { Body, Controller, Get, HttpCode, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { CookieOptions, Request, Response } from 'express';
import { CurrentCaller, type Caller } from './caller.js';
import { SESSION_COOKIE } from './credentials.js';
import { LoginDto, LoginResponseDto, MeResponseDto } from './dto/login.dto.js';
import { AuthService } from './auth.service.js';
import { LoginSessionsService } from './login-sessions.service.js';
import { LoginThrottleGuard } from './login-throttle.guard.js';
import { Public, RequireRole } from './roles.js';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly logins: LoginSessionsService,
  ) {}

  @Post('login')
  @Public()
  @UseGuards(LoginThrottleGuard)
  @HttpCode(200)
  async login(
    @Body() dto: LoginDto,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ): Promise<LoginResponseDto> {
    const { started, body } = await this.auth.login(dto, request);
    response.cookie(SESSION_COOKIE, started.cookie, {
      ...this.cookieOptions(),
      maxAge: started.expiresAt.getTime() - Date.now(),
    });
    return body;
  }

  // Public so that a stale cookie can always be cleared; it only ever ends the login it is sent with.
  @Post('logout')
  @Public()
  @HttpCode(204)
  async logout(@Req() request: Request, @Res({ passthrough: true }) response: Response): Promise<void> {
    await this.auth.logout(request);
    response.clearCookie(SESSION_COOKIE, this.cookieOptions());
  }

  @Get('me')
  @RequireRole('viewer')
  @ApiBearerAuth()
  me(@CurrentCaller() caller: Caller): MeResponseDto {
    const { username, role, tokenId } = caller.actor;
    return tokenId === undefined
      ? { username, role, via: 'session' }
      : { username, role, via: 'token', tokenId };
  }

  private cookieOptions(): CookieOptions {
    return { httpOnly: true, sameSite: 'strict', secure: this.logins.settings.tls, path: '/' };
  }
}
