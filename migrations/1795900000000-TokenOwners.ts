import type { MigrationInterface, QueryRunner } from 'typeorm';

const RANK = (column: string) => `(CASE ${column} WHEN 'admin' THEN 2 WHEN 'operator' THEN 1 ELSE 0 END)`;
const COLUMNS = `"id", "name", "role", "secretHash", "createdBy", "ownerId", "createdAt", "lastUsedAt"`;
/** A token made by another token (createdBy `token:<name>`) is owned by that token's owner: at most this deep. */
const MAX_TOKEN_CHAIN = 8;

/**
 * API tokens get an owner (issue 8, point 6): the user who made them, directly or through another of their tokens.
 * Deleting the user deletes the tokens (foreign key), and a token's role is capped at its owner's.
 * Existing tokens: the owner is found from `createdBy`; a token whose maker no longer exists was exactly the hole
 * this closes, so it is dropped. Secrets hashed with scrypt keep working (src/tokens/token-secret.ts) and are
 * rehashed with SHA-256 on their next use.
 */
export class TokenOwners1795900000000 implements MigrationInterface {
  name = 'TokenOwners1795900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "api_tokens_owned" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "name" varchar NOT NULL, "role" varchar NOT NULL, "secretHash" varchar NOT NULL, "createdBy" varchar NOT NULL, "ownerId" integer NOT NULL, "createdAt" datetime NOT NULL DEFAULT (datetime('now')), "lastUsedAt" datetime, CONSTRAINT "FK_api_tokens_owner" FOREIGN KEY ("ownerId") REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE NO ACTION)`,
    );
    await queryRunner.query(
      `INSERT INTO "api_tokens_owned" (${COLUMNS}) SELECT t."id", t."name", CASE WHEN ${RANK('t."role"')} <= ${RANK('u."role"')} THEN t."role" ELSE u."role" END, t."secretHash", t."createdBy", u."id", t."createdAt", t."lastUsedAt" FROM "api_tokens" t JOIN "users" u ON u."username" = t."createdBy"`,
    );
    for (let depth = 0; depth < MAX_TOKEN_CHAIN; depth++) {
      await queryRunner.query(
        `INSERT INTO "api_tokens_owned" (${COLUMNS}) SELECT t."id", t."name", CASE WHEN ${RANK('t."role"')} <= ${RANK('m."role"')} THEN t."role" ELSE m."role" END, t."secretHash", t."createdBy", m."ownerId", t."createdAt", t."lastUsedAt" FROM "api_tokens" t JOIN "api_tokens_owned" m ON m."id" = (SELECT MIN(o."id") FROM "api_tokens_owned" o WHERE 'token:' || o."name" = t."createdBy" AND o."id" < t."id") WHERE t."id" NOT IN (SELECT "id" FROM "api_tokens_owned")`,
      );
    }
    // Keep the id sequence, so the id of a token revoked before the upgrade is never handed out again.
    await queryRunner.query(
      `UPDATE "sqlite_sequence" SET "seq" = (SELECT "seq" FROM "sqlite_sequence" WHERE "name" = 'api_tokens') WHERE "name" = 'api_tokens_owned' AND EXISTS (SELECT 1 FROM "sqlite_sequence" WHERE "name" = 'api_tokens')`,
    );
    await queryRunner.query(`DROP TABLE "api_tokens"`);
    await queryRunner.query(`ALTER TABLE "api_tokens_owned" RENAME TO "api_tokens"`);
    await queryRunner.query(`CREATE INDEX "IDX_api_tokens_ownerId" ON "api_tokens" ("ownerId")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "IDX_api_tokens_ownerId"`);
    await queryRunner.query(
      `CREATE TABLE "api_tokens_unowned" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "name" varchar NOT NULL, "role" varchar NOT NULL, "secretHash" varchar NOT NULL, "createdBy" varchar NOT NULL, "createdAt" datetime NOT NULL DEFAULT (datetime('now')), "lastUsedAt" datetime)`,
    );
    // SHA-256 hashes mean nothing to the older code: only scrypt-hashed tokens survive a downgrade.
    await queryRunner.query(
      `INSERT INTO "api_tokens_unowned" SELECT "id", "name", "role", "secretHash", "createdBy", "createdAt", "lastUsedAt" FROM "api_tokens" WHERE "secretHash" LIKE 'scrypt$%'`,
    );
    await queryRunner.query(`DROP TABLE "api_tokens"`);
    await queryRunner.query(`ALTER TABLE "api_tokens_unowned" RENAME TO "api_tokens"`);
  }
}
