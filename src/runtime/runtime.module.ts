import { Global, Inject, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { SETTINGS, type Settings } from '../settings.js';
import { WorkerPool } from '../workers/pool.js';
import { ProxyRuntime } from './runtime.js';
import type { Log } from './state.js';
import type { ProxyRuntimeApi } from './types.js';

/** Injection token of the data plane, typed ProxyRuntimeApi: `@Inject(RUNTIME) runtime: ProxyRuntimeApi`. */
export const RUNTIME = Symbol('tether:runtime');

const logger = new Logger('Runtime');

const log: Log = (level, message, data) => {
  const text = data ? `${message} ${JSON.stringify(data)}` : message;
  if (level === 'error') logger.error(text);
  else if (level === 'warn') logger.warn(text);
  else logger.log(text);
};

/** Adapts the data plane to Nest: one ProxyRuntime (or WorkerPool, docs/workers.md) for the whole app, closed on shutdown. */
@Global()
@Module({
  providers: [
    {
      provide: RUNTIME,
      inject: [SETTINGS],
      // TETHER_WORKERS=0: the data plane in this process; otherwise worker processes behind the same interface.
      useFactory: (settings: Settings): ProxyRuntimeApi =>
        settings.workers === 0
          ? new ProxyRuntime({ nodeInternals: settings.nodeInternals, log })
          : new WorkerPool({ workers: settings.workers, nodeInternals: settings.nodeInternals, log }),
    },
  ],
  exports: [RUNTIME],
})
export class RuntimeModule implements OnApplicationShutdown {
  constructor(@Inject(RUNTIME) private readonly runtime: ProxyRuntimeApi) {}

  async onApplicationShutdown(): Promise<void> {
    const closed = await this.runtime.close();
    logger.log(`Listeners and checks stopped; ${closed} client connection(s) closed`);
  }
}
