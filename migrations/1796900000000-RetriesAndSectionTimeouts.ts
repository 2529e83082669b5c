import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A backend's connect retries and redispatch, and the frontends' and backends' own timeouts (issue 9;
 * docs/config-model.md, "Retries and per-section timeouts"). NULL everywhere: absent, as before.
 */
export class RetriesAndSectionTimeouts1796900000000 implements MigrationInterface {
  name = 'RetriesAndSectionTimeouts1796900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "backends" ADD COLUMN "retries" integer`);
    await queryRunner.query(`ALTER TABLE "backends" ADD COLUMN "redispatch" boolean`);
    await queryRunner.query(`ALTER TABLE "backends" ADD COLUMN "timeouts" text`);
    await queryRunner.query(`ALTER TABLE "frontends" ADD COLUMN "timeouts" text`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "frontends" DROP COLUMN "timeouts"`);
    await queryRunner.query(`ALTER TABLE "backends" DROP COLUMN "timeouts"`);
    await queryRunner.query(`ALTER TABLE "backends" DROP COLUMN "redispatch"`);
    await queryRunner.query(`ALTER TABLE "backends" DROP COLUMN "retries"`);
  }
}
