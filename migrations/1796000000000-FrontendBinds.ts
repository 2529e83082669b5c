import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Frontends listen on a list of binds (issue 9, point 1): the `frontends` table gets a `binds` column (JSON,
 * every address in order) next to `bindAddress`/`bindPort`, which keep the first. Existing rows get the one
 * bind they have. The revisions' JSON stays the source of truth (docs/config-model.md).
 */
export class FrontendBinds1796000000000 implements MigrationInterface {
  name = 'FrontendBinds1796000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "frontends" ADD COLUMN "binds" text`);
    await queryRunner.query(
      `UPDATE "frontends" SET "binds" = json_array(json_object('address', "bindAddress", 'port', "bindPort"))`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "frontends" DROP COLUMN "binds"`);
  }
}
