import { Module } from '@nestjs/common';
import { ServeStaticModule } from '@nestjs/serve-static';
import { CONSOLE_EXCLUDE, consoleRoot } from './console-root.js';

/**
 * Serves the web console (web/dist) at /, with index.html for every other GET so hash and history URLs load.
 * The static shell holds no data; everything it shows comes from /api/v1, which requires a login.
 */
@Module({
  imports: [
    ServeStaticModule.forRoot({
      rootPath: consoleRoot(),
      exclude: CONSOLE_EXCLUDE,
      serveStaticOptions: {
        index: 'index.html',
        // Hashed asset names never change content; index.html must always be revalidated.
        setHeaders: (res: { setHeader(name: string, value: string): void }, path: string) =>
          res.setHeader(
            'Cache-Control',
            /[\\/]assets[\\/]/.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache',
          ),
      },
    }),
  ],
})
export class ConsoleModule {}
