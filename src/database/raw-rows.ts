// Plain statements for the paths every request or change takes (authentication, a change's revision and audit
// rows): one fixed statement, prepared once, instead of a TypeORM builder per call (a findOne with a relation
// even builds two queries: a DISTINCT id subquery for its LIMIT, then the rows). Values are converted as TypeORM
// converts them, through the driver and the entity's column metadata, so rows read either way look the same.
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
