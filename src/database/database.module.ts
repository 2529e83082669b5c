import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SETTINGS, type Settings } from '../settings.js';
import { dataSourceOptions } from './data-source.js';

/** TypeORM on the SQLite file TETHER_DB; feature modules register their entities with forFeature. */
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [SETTINGS],
      useFactory: (settings: Settings) => ({
        ...dataSourceOptions(settings.dbPath),
        autoLoadEntities: true,
        // A locked or corrupt database file is not going to heal in three seconds: fail at once.
        retryAttempts: 0,
      }),
    }),
  ],
})
export class DatabaseModule {}
