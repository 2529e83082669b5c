import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The stored event log (issue 13, point 2): `events` keeps health, admin-state, drain and bind events and appliance
 * starts; `stats_samples` keeps one chart sample every 10 s so the charts survive a restart. Both are pruned by the
 * retention (docs/events.md).
 */
export class EventLog1796200000000 implements MigrationInterface {
  name = 'EventLog1796200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "events" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "at" integer NOT NULL, "type" varchar NOT NULL, "frontend" varchar, "backend" varchar, "server" varchar, "text" text NOT NULL, "detail" text NOT NULL)`,
    );
    await queryRunner.query(`CREATE INDEX "IDX_events_at" ON "events" ("at")`);
    await queryRunner.query(`CREATE INDEX "IDX_events_type" ON "events" ("type")`);
    await queryRunner.query(`CREATE INDEX "IDX_events_backend" ON "events" ("backend")`);
    await queryRunner.query(
      `CREATE TABLE "stats_samples" ("t" integer PRIMARY KEY NOT NULL, "data" text NOT NULL)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "stats_samples"`);
    await queryRunner.query(`DROP TABLE "events"`);
  }
}
