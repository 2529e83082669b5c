// Lean reads for the per-request paths (authentication): one prepared statement instead of TypeORM's findOne with a
// relation, which builds two queries (a DISTINCT id subquery for its LIMIT, then the rows) and an entity graph.
// Values come back as TypeORM would hydrate them, through the driver and the entity's column metadata.
import type { ObjectLiteral, Repository } from 'typeorm';

/** The first row `sql` returns (`?` parameters), or undefined; runs on the repository's manager (its transaction). */
export async function rawRow<R>(
  repository: Repository<ObjectLiteral>,
  sql: string,
  parameters: unknown[],
): Promise<R | undefined> {
  const rows = (await repository.manager.query(sql, parameters)) as R[];
  return rows[0];
}

/** A stored column value as the entity holds it (e.g. a `datetime` text as a Date). */
export function hydrated<T extends ObjectLiteral, K extends keyof T & string>(
  repository: Repository<T>,
  property: K,
  stored: unknown,
): T[K] {
  const column = repository.metadata.findColumnWithPropertyName(property);
  if (!column) throw new Error(`${repository.metadata.name} has no column ${property}`);
  return repository.manager.connection.driver.prepareHydratedValue(stored, column) as T[K];
}

/** A value as TypeORM would store it in the entity's column (e.g. a Date as the `datetime` text). */
export function persisted<T extends ObjectLiteral>(
  repository: Repository<T>,
  property: keyof T & string,
  value: unknown,
): unknown {
  const column = repository.metadata.findColumnWithPropertyName(property);
  if (!column) throw new Error(`${repository.metadata.name} has no column ${property}`);
  return repository.manager.connection.driver.preparePersistentValue(value, column);
}
