import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SETTINGS, type Settings } from '../settings.js';
import { TokensModule } from '../tokens/tokens.module.js';
import { UsersModule } from '../users/users.module.js';
import { AuthController } from './auth.controller.js';
import { AuthGuard } from './auth.guard.js';
import { authSettingsOf } from './auth-settings.js';
import { AuthService } from './auth.service.js';
import { FirstAdmin } from './first-admin.js';
import { LoginSessionEntity } from './login-session.entity.js';
import { LoginSessionsService } from './login-sessions.service.js';
import { LoginThrottleGuard } from './login-throttle.guard.js';
import { StreamAccess } from './stream-access.js';

/**
 * Access control: who may call what. Installs the global guard, so every route of the app is either @Public or
 * needs a role; also users, API tokens, console logins and the first admin.
 */
@Module({
  imports: [
    TypeOrmModule.forFeature([LoginSessionEntity]),
    UsersModule,
    TokensModule,
    // Only the login route uses it (LoginThrottleGuard); nothing else is rate limited.
    ThrottlerModule.forRootAsync({
      inject: [SETTINGS],
      useFactory: (settings: Settings) => ({
        // Unnamed ("default") so the 429 carries the standard `Retry-After` header.
        throttlers: [{ ttl: 60_000, limit: authSettingsOf(settings).loginAttemptsPerMinute }],
        errorMessage: 'too many login attempts from this address; wait a minute and try again',
      }),
    }),
  ],
  controllers: [AuthController],
  providers: [
    AuthService,
    LoginSessionsService,
    LoginThrottleGuard,
    FirstAdmin,
    StreamAccess,
    { provide: APP_GUARD, useClass: AuthGuard },
  ],
  exports: [StreamAccess],
})
export class AuthModule {}
