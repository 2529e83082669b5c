// Typed domain errors with stable codes. Services throw these; the one exception filter
// (api-exception.filter.ts) turns them into `{ statusCode, error, message, code, field, errors }`
// (docs/api-errors.md).

export type DomainErrorCode =
  | 'VALIDATION_FAILED'
  | 'UNKNOWN_REFERENCE'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'APPLY_FAILED'
  | 'STALE_REVISION'
  | 'FORBIDDEN'
  | 'COMMIT_FAILED'
  | 'UNAVAILABLE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'NOT_IMPLEMENTED'
  | 'LIMIT_EXCEEDED'
  // Codes of errors raised outside the services (authentication, throttling, routing, crashes).
  | 'UNAUTHENTICATED'
  | 'TOO_MANY_REQUESTS'
  | 'INTERNAL';

/** One problem of a request: `field` is a path relative to the request body, '' when it concerns no field. */
export interface ErrorEntry {
  field: string;
  code: DomainErrorCode;
  message: string;
}

/** An error body lists at most this many problems. */
export const MAX_ERROR_ENTRIES = 20;

export abstract class DomainError extends Error {
  abstract readonly code: DomainErrorCode;
  abstract readonly status: number;

  constructor(
    message: string,
    /** The request field at fault, as a path such as `bind.port` or `frontends[1].name`. */
    readonly field?: string,
    /** Every problem found, this error's own first; when left out, just this one. */
    private readonly entries?: readonly ErrorEntry[],
  ) {
    super(message);
    this.name = new.target.name;
  }

  /** Every problem (at most MAX_ERROR_ENTRIES), the one this error is named after first. */
  get errors(): ErrorEntry[] {
    const own = { field: this.field ?? '', code: this.code, message: this.message };
    return (this.entries?.length ? [...this.entries] : [own]).slice(0, MAX_ERROR_ENTRIES);
  }
}

/** The request is malformed: shape, range or syntax (400). */
export class ValidationError extends DomainError {
  readonly code = 'VALIDATION_FAILED';
  readonly status = 400;
}

/** Well-formed, but names something that does not exist, such as an unknown backend (422). */
export class UnknownReferenceError extends DomainError {
  readonly code = 'UNKNOWN_REFERENCE';
  readonly status = 422;
}

/** Well-formed and known to the schema, but not built yet, such as `check.type: cmpp` (422). */
export class NotImplementedError extends DomainError {
  readonly code = 'NOT_IMPLEMENTED';
  readonly status = 422;
}

/** Over a documented limit of the config, such as the number of frontends (413). */
export class LimitExceededError extends DomainError {
  readonly code = 'LIMIT_EXCEEDED';
  readonly status = 413;
}

/** The resource addressed by the URL does not exist (404). */
export class NotFoundError extends DomainError {
  readonly code = 'NOT_FOUND';
  readonly status = 404;

  constructor(kind: string, name: string | number) {
    super(`${kind} "${name}" not found`);
  }
}

/** Clashes with what exists: duplicate name, duplicate bind, resource in use (409). */
export class ConflictError extends DomainError {
  readonly code = 'CONFLICT';
  readonly status = 409;
}

/** The runtime refused the change (a port taken, say); nothing was changed (409). */
export class ApplyError extends DomainError {
  readonly code = 'APPLY_FAILED';
  readonly status = 409;

  constructor(
    message: string,
    field?: string,
    /** errno code of the cause, e.g. EADDRINUSE. */
    readonly cause_code?: string,
  ) {
    super(message, field);
  }
}

/** If-Match named a revision that is no longer the head (412). */
export class StaleRevisionError extends DomainError {
  readonly code = 'STALE_REVISION';
  readonly status = 412;

  constructor(expected: number, head: number) {
    super(`If-Match names revision ${expected} but the current revision is ${head}`, 'If-Match');
  }
}

/** The caller's role does not allow this particular change (403). */
export class ForbiddenError extends DomainError {
  readonly code = 'FORBIDDEN';
  readonly status = 403;
}

/** The change was applied but could not be stored; the runtime was put back (500). */
export class CommitError extends DomainError {
  readonly code = 'COMMIT_FAILED';
  readonly status = 500;
}

/** The service is shutting down (503). */
export class UnavailableError extends DomainError {
  readonly code = 'UNAVAILABLE';
  readonly status = 503;
}

/** A request body that is not JSON (415): the API speaks JSON only. */
export class UnsupportedMediaTypeError extends DomainError {
  readonly code = 'UNSUPPORTED_MEDIA_TYPE';
  readonly status = 415;
}
