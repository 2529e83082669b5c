// Mirrors a snapshot into the normalised frontends/backends/servers tables, reconciling by name so
// rows that did not change keep their id and timestamps. Runs inside the pipeline's transaction.
import type { EntityManager } from 'typeorm';
import { BackendEntity } from '../backends/backend.entity.js';
import { ServerEntity } from '../backends/server.entity.js';
import { FrontendEntity } from '../frontends/frontend.entity.js';
import type { Snapshot } from '../schema/snapshot.js';

export async function writeSnapshotTables(manager: EntityManager, snapshot: Snapshot): Promise<void> {
  await writeFrontends(manager, snapshot);
  await writeBackends(manager, snapshot);
}

async function writeFrontends(manager: EntityManager, snapshot: Snapshot): Promise<void> {
  const repository = manager.getRepository(FrontendEntity);
  const rows = new Map((await repository.find()).map((row) => [row.name, row]));
  const wanted = new Set(snapshot.frontends.map((f) => f.name));
  await repository.remove([...rows.values()].filter((row) => !wanted.has(row.name)));
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
  );
}

async function writeBackends(manager: EntityManager, snapshot: Snapshot): Promise<void> {
  const backends = manager.getRepository(BackendEntity);
  const servers = manager.getRepository(ServerEntity);
  const rows = new Map((await backends.find()).map((row) => [row.name, row]));
  const wanted = new Set(snapshot.backends.map((b) => b.name));
  // Servers go with their backend (ON DELETE CASCADE).
  await backends.remove([...rows.values()].filter((row) => !wanted.has(row.name)));
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
    await servers.remove([...serverRows.values()].filter((s) => !wantedServers.has(s.name)));
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
    );
  }
}
