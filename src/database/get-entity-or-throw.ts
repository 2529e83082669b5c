import type { FindOptionsRelations, FindOptionsWhere, ObjectLiteral, Repository } from 'typeorm';
import { NotFoundError } from '../common/errors.js';

/** One place for "load it or answer 404". */
export async function getEntityOrThrow<T extends ObjectLiteral>(
  repository: Repository<T>,
  where: FindOptionsWhere<T>,
  kind: string,
  name: string | number,
  relations?: FindOptionsRelations<T>,
): Promise<T> {
  const entity = await repository.findOne({ where, relations });
  if (!entity) throw new NotFoundError(kind, name);
  return entity;
}
