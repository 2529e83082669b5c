import type { Server } from 'node:http';
import { isIPv6, type AddressInfo } from 'node:net';
import { Logger } from '@nestjs/common';
import { API_PREFIX, createApp, DOCS_PATH } from './app.factory.js';
import { settingsFromEnv, type Settings } from './settings.js';

/** A shutdown that has not finished by then is cut short (docs/architecture.md: exit within 10 s). */
const SHUTDOWN_DEADLINE_MS = 9_500;

async function main(): Promise<void> {
  const settings = settingsFromEnv(process.env);
  const app = await createApp(settings);
  const logger = new Logger('Tether');

  // createApp wires SIGTERM/SIGINT to app.close(): stop accepting, close HTTP, close the runtime
  // (counting the client connections it closes), close the database, exit 0. This only bounds it.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      logger.log(`${signal}: shutting down`);
      setTimeout(() => {
        logger.error('shutdown did not finish in time; exiting');
        process.exit(1);
      }, SHUTDOWN_DEADLINE_MS).unref();
    });
  }

  await app.listen(settings.httpPort, settings.httpHost);
  const origin = originOf(settings, (app.getHttpServer() as Server).address() as AddressInfo);
  logger.log(`Console  ${origin}/`);
  logger.log(`REST API ${origin}/${API_PREFIX}`);
  logger.log(`API docs ${origin}/${DOCS_PATH}`);
}

function originOf(settings: Settings, address: AddressInfo): string {
  const host = settings.httpHost;
  const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : isIPv6(host) ? `[${host}]` : host;
  return `${settings.tlsCert ? 'https' : 'http'}://${shown}:${address.port}`;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
