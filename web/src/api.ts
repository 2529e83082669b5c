// Thin fetch wrapper: same-origin JSON, the API's one error shape, and a signal when the session is gone.

/** One problem of a refused request: the field (a path relative to the request body, '' for none). */
export interface ApiProblem {
  field: string;
  code: string;
  message: string;
}

/** The API's one error shape. */
export interface ApiErrorBody {
  statusCode: number;
  error?: string;
  message?: string;
  code?: string;
  field?: string;
  errors?: ApiProblem[];
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ApiErrorBody,
  ) {
    super(messageOf(body) || `HTTP ${status}`);
  }

  /** Every problem the API named; a body without a list (a proxy's page, say) is one problem with no field. */
  get problems(): ApiProblem[] {
    if (Array.isArray(this.body.errors) && this.body.errors.length > 0) return this.body.errors;
    return [{ field: this.body.field ?? '', code: this.body.code ?? '', message: this.message }];
  }

  /** Every message the API sent. */
  get messages(): string[] {
    return this.problems.map((p) => p.message);
  }
}

function messageOf(body: ApiErrorBody): string {
  return body?.message ?? body?.error ?? '';
}

type UnauthorizedListener = () => void;
const unauthorizedListeners = new Set<UnauthorizedListener>();

/** Called whenever a request answers 401 and no sign-in dialog is offered, so the app can show the login page. */
export function onUnauthorized(listener: UnauthorizedListener): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

/** Asks the operator to sign in again; resolves once signed in, rejects when they give up. */
type SignIn = () => Promise<void>;
let signIn: SignIn | null = null;
let signingIn: Promise<void> | null = null;

/**
 * While signed in, a 401 (the login expired or was ended) opens a sign-in dialog instead of leaving the page: the
 * request waits for it and is sent again once, so a form being edited keeps its content and its action goes on.
 */
export function offerSignIn(dialog: SignIn): () => void {
  signIn = dialog;
  return () => {
    if (signIn === dialog) signIn = null;
  };
}

/** Whether a sign-in dialog is open (requests wait for it). */
export function signInPending(): boolean {
  return signingIn !== null;
}

export interface ApiResponse<T> {
  data: T;
  status: number;
  headers: Headers;
}

/** A body sent as it is, `Content-Type: text/plain` (a haproxy.cfg), instead of JSON. */
export class PlainText {
  constructor(readonly text: string) {}
}

/** One API call; `body` is JSON-encoded unless it is a `PlainText`. */
export async function request<T>(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
  retried = false,
): Promise<ApiResponse<T>> {
  const init: RequestInit = {
    method,
    credentials: 'same-origin',
    headers: { Accept: 'application/json', ...headers },
  };
  if (body instanceof PlainText) {
    init.body = body.text;
    (init.headers as Record<string, string>)['Content-Type'] = 'text/plain';
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)['Content-Type'] = 'application/json';
  }
  const res = await fetch(`/api/v1${path}`, init);
  const text = await res.text();
  let data: unknown = undefined;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { message: text };
    }
  }
  if (!res.ok) {
    const errBody = (data && typeof data === 'object' ? data : {}) as ApiErrorBody;
    const error = new ApiError(res.status, { ...errBody, statusCode: res.status });
    if (res.status === 401 && !path.startsWith('/auth/')) {
      if (signIn && !retried) {
        const dialog = signIn;
        signingIn ??= dialog().finally(() => (signingIn = null));
        try {
          await signingIn;
        } catch {
          throw error;
        }
        return request<T>(method, path, body, headers, true);
      }
      if (!signIn) unauthorizedListeners.forEach((l) => l());
    }
    throw error;
  }
  return { data: data as T, status: res.status, headers: res.headers };
}

export const api = {
  get: <T>(path: string) => request<T>('GET', path).then((r) => r.data),
  post: <T>(path: string, body?: unknown) => request<T>('POST', path, body ?? {}).then((r) => r.data),
  put: <T>(path: string, body: unknown) => request<T>('PUT', path, body).then((r) => r.data),
  patch: <T>(path: string, body: unknown) => request<T>('PATCH', path, body).then((r) => r.data),
  del: <T>(path: string) => request<T>('DELETE', path).then((r) => r.data),
};

/** Path segment escaping for names taken from the config. */
export const seg = (s: string) => encodeURIComponent(s);

/** One-line explanation of a failure: "denied: …" for 403, the API's message otherwise. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError && err.status === 403) return `denied: ${reasonOf(err)}`;
  return reasonOf(err);
}

/** Why it failed, without a "denied:" label (banners show the kind from the HTTP status instead). */
export function reasonOf(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 403) return err.messages.join('; ') || 'your role does not allow this';
    if (err.status === 412)
      return 'the configuration changed meanwhile (someone else applied a revision); reload and try again';
    return err.messages.join('; ');
  }
  return err instanceof Error ? err.message : String(err);
}
