// A database holding one route ('fe' on `port` -> backend 'b' -> server 's' = upstream), stored through the
// real app as an operator would before starting the compiled appliance on it.
import { startApp, type StartedApp } from './app.js';
import { backendBody, frontendBody, serverBody } from '../control-plane/fixtures.js';

/**
 * Starts the app on `dbPath` and stores the route; the app is left open so the caller can change more
 * (defaults, read the revision) and must close it before the appliance opens the same file.
 */
export async function appWithStoredRoute(
  dbPath: string,
  upstreamPort: number,
  port: number,
  frontendExtra: Record<string, unknown> = {},
): Promise<StartedApp> {
  const setup = await startApp({ dbPath });
  try {
    await setup.request
      .post('/api/v1/backends')
      .send(backendBody('b', [serverBody('s', upstreamPort)]))
      .expect(201);
    await setup.request
      .post('/api/v1/frontends')
      .send(frontendBody('fe', port, 'b', frontendExtra))
      .expect(201);
    return setup;
  } catch (error) {
    await setup.close();
    throw error;
  }
}
