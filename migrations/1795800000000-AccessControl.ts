import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Users, API tokens and console logins. Secrets are stored only as hashes (see src/auth/secret-hash.ts). */
export class AccessControl1795800000000 implements MigrationInterface {
  name = 'AccessControl1795800000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "users" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "createdAt" datetime NOT NULL DEFAULT (datetime('now')), "updatedAt" datetime NOT NULL DEFAULT (datetime('now')), "username" varchar NOT NULL, "role" varchar NOT NULL, "passwordHash" varchar NOT NULL, CONSTRAINT "UQ_users_username" UNIQUE ("username"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "api_tokens" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "name" varchar NOT NULL, "role" varchar NOT NULL, "secretHash" varchar NOT NULL, "createdBy" varchar NOT NULL, "createdAt" datetime NOT NULL DEFAULT (datetime('now')), "lastUsedAt" datetime)`,
    );
    await queryRunner.query(
      `CREATE TABLE "login_sessions" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "userId" integer NOT NULL, "cookieHash" varchar NOT NULL, "bearerHash" varchar NOT NULL, "sourceAddress" varchar, "createdAt" datetime NOT NULL DEFAULT (datetime('now')), "lastSeenAt" datetime NOT NULL, "expiresAt" datetime NOT NULL, "bearerExpiresAt" datetime NOT NULL, CONSTRAINT "UQ_login_sessions_cookieHash" UNIQUE ("cookieHash"), CONSTRAINT "UQ_login_sessions_bearerHash" UNIQUE ("bearerHash"), CONSTRAINT "FK_login_sessions_user" FOREIGN KEY ("userId") REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE NO ACTION)`,
    );
    await queryRunner.query(`CREATE INDEX "IDX_login_sessions_userId" ON "login_sessions" ("userId")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "IDX_login_sessions_userId"`);
    await queryRunner.query(`DROP TABLE "login_sessions"`);
    await queryRunner.query(`DROP TABLE "api_tokens"`);
    await queryRunner.query(`DROP TABLE "users"`);
  }
}
