import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { SETTINGS, type Settings } from '../settings.js';
import { UsersService } from '../users/users.service.js';

/**
 * On a first start (no users at all) creates `admin` with TETHER_ADMIN_PASSWORD, or with a random password printed
 * once to the log. There is no default password.
 */
@Injectable()
export class FirstAdmin implements OnApplicationBootstrap {
  private readonly logger = new Logger('Auth');

  constructor(
    private readonly users: UsersService,
    @Inject(SETTINGS) private readonly settings: Settings,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if ((await this.users.count()) > 0) return;
    const given = this.settings.adminPassword;
    const password = given ?? randomBytes(18).toString('base64url');
    await this.users.createFirstAdmin(password);
    if (given) {
      this.logger.log('Created the first user "admin" with the password from TETHER_ADMIN_PASSWORD');
    } else {
      this.logger.warn(
        `Created the first user "admin" with the generated password: ${password}  ` +
          '(shown only this once; log in and change it, or set TETHER_ADMIN_PASSWORD before the first start)',
      );
    }
  }
}
