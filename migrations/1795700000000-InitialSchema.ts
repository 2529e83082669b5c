import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Config tables mirroring the head snapshot, revisions, server admin states and the audit log. */
export class InitialSchema1795700000000 implements MigrationInterface {
  name = 'InitialSchema1795700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "frontends" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "createdAt" datetime NOT NULL DEFAULT (datetime('now')), "updatedAt" datetime NOT NULL DEFAULT (datetime('now')), "name" varchar NOT NULL, "bindAddress" varchar NOT NULL, "bindPort" integer NOT NULL, "backend" varchar NOT NULL, "maxconn" integer, "allow" text, "inspect" varchar, "enabled" boolean NOT NULL, "position" integer NOT NULL, CONSTRAINT "UQ_frontends_name" UNIQUE ("name"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "backends" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "createdAt" datetime NOT NULL DEFAULT (datetime('now')), "updatedAt" datetime NOT NULL DEFAULT (datetime('now')), "name" varchar NOT NULL, "balance" varchar NOT NULL, "hashType" varchar NOT NULL, "check" text NOT NULL, "sendProxy" varchar NOT NULL, "onMarkedDown" varchar NOT NULL, "position" integer NOT NULL, CONSTRAINT "UQ_backends_name" UNIQUE ("name"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "servers" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "createdAt" datetime NOT NULL DEFAULT (datetime('now')), "updatedAt" datetime NOT NULL DEFAULT (datetime('now')), "backendId" integer NOT NULL, "name" varchar NOT NULL, "address" varchar NOT NULL, "port" integer NOT NULL, "weight" integer NOT NULL, "maxconn" integer, "backup" boolean NOT NULL, "check" boolean NOT NULL, "position" integer NOT NULL, CONSTRAINT "UQ_servers_backend_name" UNIQUE ("backendId", "name"), CONSTRAINT "FK_servers_backend" FOREIGN KEY ("backendId") REFERENCES "backends" ("id") ON DELETE CASCADE ON UPDATE NO ACTION)`,
    );
    await queryRunner.query(
      `CREATE TABLE "server_admin_states" ("backend" varchar NOT NULL, "server" varchar NOT NULL, "state" varchar NOT NULL, "updatedAt" datetime NOT NULL, "updatedBy" varchar NOT NULL, PRIMARY KEY ("backend", "server"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "revisions" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "parentId" integer, "kind" varchar NOT NULL, "author" varchar NOT NULL, "message" varchar NOT NULL, "createdAt" datetime NOT NULL DEFAULT (datetime('now')), "snapshot" text NOT NULL)`,
    );
    await queryRunner.query(`CREATE INDEX "IDX_revisions_parentId" ON "revisions" ("parentId")`);
    await queryRunner.query(
      `CREATE TABLE "audit_events" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "at" datetime NOT NULL, "actor" varchar NOT NULL, "role" varchar NOT NULL, "sourceAddress" varchar, "action" varchar NOT NULL, "target" varchar, "result" varchar NOT NULL, "detail" text, "revisionId" integer)`,
    );
    await queryRunner.query(`CREATE INDEX "IDX_audit_events_at" ON "audit_events" ("at")`);
    await queryRunner.query(`CREATE INDEX "IDX_audit_events_actor" ON "audit_events" ("actor")`);
    await queryRunner.query(`CREATE INDEX "IDX_audit_events_action" ON "audit_events" ("action")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "IDX_audit_events_action"`);
    await queryRunner.query(`DROP INDEX "IDX_audit_events_actor"`);
    await queryRunner.query(`DROP INDEX "IDX_audit_events_at"`);
    await queryRunner.query(`DROP TABLE "audit_events"`);
    await queryRunner.query(`DROP INDEX "IDX_revisions_parentId"`);
    await queryRunner.query(`DROP TABLE "revisions"`);
    await queryRunner.query(`DROP TABLE "server_admin_states"`);
    await queryRunner.query(`DROP TABLE "servers"`);
    await queryRunner.query(`DROP TABLE "backends"`);
    await queryRunner.query(`DROP TABLE "frontends"`);
  }
}
