// The CMPP check secret never leaves the process in clear: the API shows this mask instead, and a
// write that sends the mask back keeps the stored value (issue 4, point 5).
import { ValidationError } from '../common/errors.js';
import type { Backend, BackendCheck, Snapshot } from './snapshot.js';

export const SECRET_MASK = '********';

export function maskCheck(check: BackendCheck): BackendCheck {
  return check.cmpp ? { ...check, cmpp: { ...check.cmpp, secret: SECRET_MASK } } : check;
}

export function maskBackend<T extends Pick<Backend, 'check'>>(backend: T): T {
  return { ...backend, check: maskCheck(backend.check) };
}

export function maskSnapshot(snapshot: Snapshot): Snapshot {
  return { ...snapshot, backends: snapshot.backends.map(maskBackend) };
}

/**
 * Replaces a masked secret in `check` by the one stored in `stored` (in place).
 * A mask with nothing stored to keep is an error naming the field.
 */
export function keepStoredSecret(check: BackendCheck, stored: BackendCheck | undefined, field: string): void {
  if (check.cmpp?.secret !== SECRET_MASK) return;
  const secret = stored?.cmpp?.secret;
  if (secret === undefined) {
    throw new ValidationError(`${field} is the mask ${SECRET_MASK} but no secret is stored to keep`, field);
  }
  check.cmpp.secret = secret;
}

/** keepStoredSecret for every backend of a whole snapshot, matching backends by name. */
export function keepStoredSecrets(candidate: Snapshot, stored: Snapshot): void {
  candidate.backends.forEach((backend, i) => {
    const previous = stored.backends.find((b) => b.name === backend.name);
    keepStoredSecret(backend.check, previous?.check, `backends[${i}].check.cmpp.secret`);
  });
}
