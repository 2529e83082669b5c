// Mirrors a snapshot into the normalised frontends/backends/servers tables, reconciling by name so
// rows that did not change keep their id and timestamps. Runs inside the pipeline's transaction.
//
// Statements go in batches: TypeORM turns a list of rows into one WHERE of OR-ed terms, and SQLite
// refuses an expression deeper than 1,000 ("Expression tree is too large"), so removing or saving
// 1,000+ rows in one call fails.
import { In, type EntityManager, type ObjectLiteral, type Repository } from 'typeorm';
import { BackendEntity } from '../backends/backend.entity.js';
import { ServerEntity } from '../backends/server.entity.js';
import { FrontendEntity } from '../frontends/frontend.entity.js';
import type { Snapshot } from './snapshot.js';

/** Rows per statement: well under SQLite's expression depth (1,000) and variable count limits. */
export const ROWS_PER_STATEMENT = 200;

async function removeRows<T extends ObjectLiteral & { id: number }>(
  repository: Repository<T>,
  rows: T[],
): Promise<void> {
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
    const ids = rows.slice(i, i + ROWS_PER_STATEMENT).map((row) => row.id);
    await repository.delete({ id: In(ids) } as never);
  }
}

export async function writeSnapshotTables(manager: EntityManager, snapshot: Snapshot): Promise<void> {
  await writeFrontends(manager, snapshot);
  await writeBackends(manager, snapshot);
}

async function writeFrontends(manager: EntityManager, snapshot: Snapshot): Promise<void> {
  const repository = manager.getRepository(FrontendEntity);
  const rows = new Map((await repository.find()).map((row) => [row.name, row]));
  const wanted = new Set(snapshot.frontends.map((f) => f.name));
  await removeRows(
    repository,
    [...rows.values()].filter((row) => !wanted.has(row.name)),
  );
  await repository.save(
    snapshot.frontends.map((frontend, position) =>
      Object.assign(rows.get(frontend.name) ?? repository.create(), {
        name: frontend.name,
        bindAddress: frontend.bind.address,
        bindPort: frontend.bind.port,
        backend: frontend.backend,
        maxconn: frontend.maxconn ?? null,
        allow: frontend.allow ?? null,
        inspect: frontend.inspect ?? null,
        enabled: frontend.enabled,
        position,
      }),
    ),
    { chunk: ROWS_PER_STATEMENT },
  );
}

async function writeBackends(manager: EntityManager, snapshot: Snapshot): Promise<void> {
  const backends = manager.getRepository(BackendEntity);
  const servers = manager.getRepository(ServerEntity);
  const rows = new Map((await backends.find()).map((row) => [row.name, row]));
  const wanted = new Set(snapshot.backends.map((b) => b.name));
  // Servers go with their backend (ON DELETE CASCADE).
  await removeRows(
    backends,
    [...rows.values()].filter((row) => !wanted.has(row.name)),
  );
  for (const [position, backend] of snapshot.backends.entries()) {
    const row = await backends.save(
      Object.assign(rows.get(backend.name) ?? backends.create(), {
        name: backend.name,
        balance: backend.balance,
        hashType: backend.hashType,
        check: backend.check,
        sendProxy: backend.sendProxy,
        onMarkedDown: backend.onMarkedDown,
        position,
      }),
    );
    const serverRows = new Map(
      (await servers.find({ where: { backendId: row.id } })).map((s) => [s.name, s]),
    );
    const wantedServers = new Set(backend.servers.map((s) => s.name));
    await removeRows(
      servers,
      [...serverRows.values()].filter((s) => !wantedServers.has(s.name)),
    );
    await servers.save(
      backend.servers.map((server, serverPosition) =>
        Object.assign(serverRows.get(server.name) ?? servers.create(), {
          backendId: row.id,
          name: server.name,
          address: server.address,
          port: server.port,
          weight: server.weight,
          maxconn: server.maxconn ?? null,
          backup: server.backup,
          check: server.check,
          position: serverPosition,
        }),
      ),
      { chunk: ROWS_PER_STATEMENT },
    );
  }
}
