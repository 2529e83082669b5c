import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The port a server's health checks connect to (HAProxy's `port`; issue 9, docs/health-checks.md). NULL: the
 * server's own port, so every stored server keeps being checked as before. The other new check settings
 * (fastinter, downinter, steps) live in the backend's `check` JSON column and need no column.
 */
export class ServerCheckPort1796800000000 implements MigrationInterface {
  name = 'ServerCheckPort1796800000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "servers" ADD COLUMN "checkPort" integer`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "servers" DROP COLUMN "checkPort"`);
  }
}
