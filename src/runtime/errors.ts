// Typed runtime failures. `code` is stable for callers; toJSON keeps them plain data across processes.
export type RuntimeErrorCode =
  | 'BIND_FAILED'
  | 'INVALID_SNAPSHOT'
  | 'UNKNOWN_BACKEND'
  | 'UNKNOWN_SERVER'
  | 'UNKNOWN_SESSION'
  | 'UNKNOWN_FRONTEND'
  /** A retry of a frontend that is not FAILED (it listens, or is disabled). */
  | 'NOT_FAILED'
  | 'CLOSED';

export interface RuntimeErrorSubject {
  frontend?: string;
  backend?: string;
  server?: string;
  field?: string;
  /** BIND_FAILED: the frontend's bind that failed. */
  bind?: { address: string; port: number };
}

export class RuntimeError extends Error {
  constructor(
    readonly code: RuntimeErrorCode,
    message: string,
    readonly subject: RuntimeErrorSubject = {},
    /** The underlying errno code, e.g. EADDRINUSE. */
    readonly cause_code?: string,
  ) {
    super(message);
    this.name = 'RuntimeError';
  }

  toJSON() {
    return { code: this.code, message: this.message, subject: this.subject, cause_code: this.cause_code };
  }
}
