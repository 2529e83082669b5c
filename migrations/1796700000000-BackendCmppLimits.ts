import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Per-account CMPP caps and login rate limits of a backend (issue 12 points 3 and 5; docs/cmpp-session-control.md). */
export class BackendCmppLimits1796700000000 implements MigrationInterface {
  name = 'BackendCmppLimits1796700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "backends" ADD COLUMN "cmpp" text`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "backends" DROP COLUMN "cmpp"`);
  }
}
