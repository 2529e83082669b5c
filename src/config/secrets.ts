// The CMPP check secret never leaves the process in clear: the API shows this mask instead, and a
// write that sends the mask back keeps the stored value (issue 4, point 5).
import { ValidationError } from '../common/errors.js';
import type { Backend, BackendCheck, Snapshot } from '../schema/snapshot.js';

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

/**
 * Names of the backends of `input` whose CMPP secret is given in clear (not the mask). A dry run or
 * a change that carries one counts it as changed without comparing it with the stored secret, so no
 * answer (`changed`, the diff, a new revision or not) tells whether a guess was right.
 */
export function clearSecretsOf(
  backends:
    | ReadonlyArray<{ name?: unknown; check?: { cmpp?: { secret?: unknown } | null } | null }>
    | null
    | undefined,
): string[] {
  const names: string[] = [];
  for (const backend of backends ?? []) {
    const secret = backend?.check?.cmpp?.secret;
    if (typeof secret === 'string' && secret !== SECRET_MASK) names.push(String(backend.name));
  }
  return names;
}

/** keepStoredSecret for every backend of a whole snapshot, matching backends by name. */
export function keepStoredSecrets(candidate: Snapshot, stored: Snapshot): void {
  const byName = new Map(stored.backends.map((b) => [b.name, b]));
  candidate.backends.forEach((backend, i) => {
    if (backend?.check) {
      keepStoredSecret(backend.check, byName.get(backend.name)?.check, `backends[${i}].check.cmpp.secret`);
    }
  });
}
