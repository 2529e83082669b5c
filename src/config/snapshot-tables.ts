// Mirrors a snapshot into the normalised frontends/backends/servers tables, reconciling by name so
// rows that did not change keep their id and timestamps. Runs inside the pipeline's transaction.
//
// Only what changed is written, and only what changed is read: a part of the snapshot equal to the head's (the
// frontends, a backend with its servers) is not even read back, as the tables hold what the head holds (they are
// written in the revision's transaction and by nothing else). What changed is reconciled with the rows read, so
// rows changed behind the app's back there are put right. Writes go in batches: TypeORM turns a list of rows into one WHERE of OR-ed
// terms, and SQLite refuses an expression deeper than 1,000 ("Expression tree is too large"), so
// removing or saving 1,000+ rows in one call fails; and better-sqlite3 is synchronous, so a write of
// thousands of rows one statement (plus a reload) each would hold the event loop, and the proxy, for
// seconds.
import { isDeepStrictEqual } from 'node:util';
import { In, type EntityManager, type EntityTarget, type ObjectLiteral, type Repository } from 'typeorm';
import { BackendEntity } from '../backends/backend.entity.js';
import { ServerEntity } from '../backends/server.entity.js';
import { FrontendEntity } from '../frontends/frontend.entity.js';
import type { Snapshot } from '../schema/snapshot.js';

/** Rows per statement: well under SQLite's expression depth (1,000) and variable count limits. */
export const ROWS_PER_STATEMENT = 200;

/**
 * The rows one change read, kept from its rehearsal for its store: the write that is committed reads nothing
 * again. Sound because only the pipeline writes these tables, one change at a time, and the rehearsal was rolled
 * back. Rows are handed out as copies, since a write updates the row objects it is given.
 */
export class TableReads {
  private readonly rows = new Map<string, ObjectLiteral[]>();

  async get<T extends ObjectLiteral>(key: string, read: () => Promise<T[]>): Promise<T[]> {
    let rows = this.rows.get(key) as T[] | undefined;
    if (!rows) this.rows.set(key, (rows = await read()));
    return rows.map((row) => Object.assign(Object.create(Object.getPrototypeOf(row) as object) as T, row));
  }
}

/**
 * Makes the tables hold `snapshot`; `head`: the snapshot they hold now (empty tables: an empty snapshot);
 * `reads`: the rows an earlier run of the same change read (its rehearsal), if any.
 */
export async function writeSnapshotTables(
  manager: EntityManager,
  snapshot: Snapshot,
  head: Snapshot,
  reads: TableReads = new TableReads(),
): Promise<void> {
  if (!isDeepStrictEqual(snapshot.frontends, head.frontends)) await writeFrontends(manager, snapshot, reads);
  if (!isDeepStrictEqual(snapshot.backends, head.backends))
    await writeBackends(manager, snapshot, head, reads);
}

async function writeFrontends(manager: EntityManager, snapshot: Snapshot, reads: TableReads): Promise<void> {
  const repository = manager.getRepository(FrontendEntity);
  const rows = new Map((await reads.get('frontends', () => repository.find())).map((row) => [row.name, row]));
  const wanted = snapshot.frontends.map((frontend, position) => ({
    name: frontend.name,
    bindAddress: frontend.bind.address,
    bindPort: frontend.bind.port,
    binds: frontend.binds.map((b) => ({ address: b.address, port: b.port })),
    backend: frontend.backend,
    maxconn: frontend.maxconn ?? null,
    allow: frontend.allow ?? null,
    inspect: frontend.inspect ?? null,
    timeouts: frontend.timeouts ?? null,
    enabled: frontend.enabled,
    position,
  }));
  await reconcileRows(manager, FrontendEntity, rows, wanted);
}

async function writeBackends(
  manager: EntityManager,
  snapshot: Snapshot,
  head: Snapshot,
  reads: TableReads,
): Promise<void> {
  const backends = manager.getRepository(BackendEntity);
  const servers = manager.getRepository(ServerEntity);
  const rows = new Map((await reads.get('backends', () => backends.find())).map((row) => [row.name, row]));
  const wanted = new Set(snapshot.backends.map((b) => b.name));
  // Servers go with their backend (ON DELETE CASCADE).
  await removeRows(
    backends,
    [...rows.values()].filter((row) => !wanted.has(row.name)),
  );
  // A backend whose servers are the head's keeps its server rows unread.
  const headServers = new Map(head.backends.map((b) => [b.name, b.servers]));
  const changed = snapshot.backends.filter((b) => !isDeepStrictEqual(b.servers, headServers.get(b.name)));
  const changedIds = changed.flatMap((b) => {
    const row = rows.get(b.name);
    return row ? [row.id] : [];
  });
  const serverRows = new Map<number, Map<string, ServerEntity>>();
  for (let i = 0; i < changedIds.length; i += ROWS_PER_STATEMENT) {
    const ids = changedIds.slice(i, i + ROWS_PER_STATEMENT);
    const read = () => servers.find({ where: { backendId: In(ids) } });
    for (const server of await reads.get(`servers ${ids.join(',')}`, read)) {
      let byName = serverRows.get(server.backendId);
      if (!byName) serverRows.set(server.backendId, (byName = new Map()));
      byName.set(server.name, server);
    }
  }
  const serversChanged = new Set(changed.map((b) => b.name));
  for (const [position, backend] of snapshot.backends.entries()) {
    const fields = {
      name: backend.name,
      balance: backend.balance,
      hashType: backend.hashType,
      check: backend.check,
      sendProxy: backend.sendProxy,
      onMarkedDown: backend.onMarkedDown,
      retries: backend.retries ?? null,
      redispatch: backend.redispatch ?? null,
      timeouts: backend.timeouts ?? null,
      cmpp: backend.cmpp ?? null,
      position,
    };
    const existing = rows.get(backend.name);
    const row =
      existing && sameFields(existing, fields)
        ? existing
        : await backends.save(Object.assign(existing ?? backends.create(), fields));
    // A backend without a row had none read (a new or renamed one: its servers are new, hence changed).
    if (existing && !serversChanged.has(backend.name)) continue;
    await reconcileRows(
      manager,
      ServerEntity,
      serverRows.get(row.id) ?? new Map(),
      backend.servers.map((server, serverPosition) => ({
        backendId: row.id,
        name: server.name,
        address: server.address,
        port: server.port,
        weight: server.weight,
        maxconn: server.maxconn ?? null,
        backup: server.backup,
        check: server.check,
        checkPort: server.checkPort ?? null,
        position: serverPosition,
      })),
    );
  }
}

/**
 * Makes the table's rows (`existing`, by name) equal `wanted`: deletes the rows no longer wanted,
 * updates the ones whose fields differ, inserts the new ones, each in batches.
 */
async function reconcileRows<T extends ObjectLiteral & { id: number; name: string }>(
  manager: EntityManager,
  entity: EntityTarget<T>,
  existing: Map<string, T>,
  wanted: Array<Partial<T> & { name: string }>,
): Promise<void> {
  const repository = manager.getRepository(entity);
  const names = new Set(wanted.map((w) => w.name));
  await removeRows(
    repository,
    [...existing.values()].filter((row) => !names.has(row.name)),
  );
  const inserts: Array<Partial<T>> = [];
  for (const fields of wanted) {
    const row = existing.get(fields.name);
    if (!row) inserts.push(fields);
    else if (!sameFields(row, fields)) await repository.update(row.id, fields as never);
  }
  for (let i = 0; i < inserts.length; i += ROWS_PER_STATEMENT) {
    await manager
      .createQueryBuilder()
      .insert()
      .into(entity)
      .values(inserts.slice(i, i + ROWS_PER_STATEMENT) as never)
      .updateEntity(false)
      .execute();
  }
}

async function removeRows<T extends ObjectLiteral & { id: number }>(
  repository: Repository<T>,
  rows: T[],
): Promise<void> {
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
    const ids = rows.slice(i, i + ROWS_PER_STATEMENT).map((row) => row.id);
    await repository.delete({ id: In(ids) } as never);
  }
}

function sameFields(row: object, fields: object): boolean {
  return Object.entries(fields).every(([key, value]) =>
    isDeepStrictEqual((row as Record<string, unknown>)[key], value),
  );
}
