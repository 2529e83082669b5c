import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Drains that finish (issue 12, point 1): a drain keeps when it started and, for a drain operation, its deadline and
 * the state it ends in, beside the admin state, so it goes on after a restart (docs/cmpp-session-control.md).
 */
export class DrainOperations1796600000000 implements MigrationInterface {
  name = 'DrainOperations1796600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "server_admin_states" ADD COLUMN "drainStartedAt" integer`);
    await queryRunner.query(`ALTER TABLE "server_admin_states" ADD COLUMN "drainDeadlineMs" integer`);
    await queryRunner.query(`ALTER TABLE "server_admin_states" ADD COLUMN "drainThen" varchar`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "server_admin_states" DROP COLUMN "drainThen"`);
    await queryRunner.query(`ALTER TABLE "server_admin_states" DROP COLUMN "drainDeadlineMs"`);
    await queryRunner.query(`ALTER TABLE "server_admin_states" DROP COLUMN "drainStartedAt"`);
  }
}
