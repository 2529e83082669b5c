// The single pipeline every config change goes through (docs/architecture.md, "Changing the config: apply, then
// commit"; Caddy's admin pipeline): check If-Match, build the candidate from the head and the change, check
// it, skip if nothing changed, rehearse the write (so a store that would fail is known before the runtime
// is touched), apply it to the runtime, then write tables + revision + audit in one transaction, putting
// the runtime back if that write still fails. One change at a time (a mutex).
import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import type { ChangeContext } from '../common/change-context.js';
import {
  ApplyError,
  CommitError,
  ConflictError,
  DomainError,
  LimitExceededError,
  NotImplementedError,
  StaleRevisionError,
  UnavailableError,
  UnknownReferenceError,
  ValidationError,
  type DomainErrorCode,
  type ErrorEntry,
} from '../common/errors.js';
import { Mutex } from '../common/mutex.js';
import { RevisionEntity, type RevisionKind } from '../revisions/revision.entity.js';
import { RuntimeError } from '../runtime/errors.js';
import { RUNTIME } from '../runtime/runtime.module.js';
import type { AdminStateEntry, ImpactReport, ProxyRuntimeApi } from '../runtime/types.js';
import { normalizeSnapshot, sameSnapshot, snapshotJson, type SnapshotInput } from './normalize.js';
import { clearSecretsOf, keepStoredSecrets, SECRET_MASK } from './secrets.js';
import { checkCandidate, type IssueKind, type SnapshotIssue } from './snapshot-checks.js';
import { diffSnapshots, type SnapshotDiff } from './snapshot-diff.js';
import { TableReads, writeSnapshotTables } from './snapshot-tables.js';
import { emptySnapshot, type Snapshot } from '../schema/snapshot.js';

export interface ChangeRequest {
  context: ChangeContext;
  /** Audit action, e.g. `frontend.create`. */
  action: string;
  /** Audit target, e.g. `sms` or `ismg/gw1`. */
  target: string;
  kind: RevisionKind;
  /** Revision message when the caller gave none. */
  message: string;
  /** Revision named in the body (PUT /config `revision`): a second If-Match. */
  basedOn?: number;
}

/** What an edit did to the draft: a whole new snapshot, and/or the path of the item it edited. */
export interface EditOutcome {
  snapshot?: SnapshotInput;
  /** e.g. `frontends[2]`: errors under it name fields relative to the request (`bind.port`). */
  focus?: string;
  /** The request carried a CMPP secret in clear: it counts as a change, whatever the stored one is. */
  clearSecret?: boolean;
}

export type Edit = (draft: Snapshot) => EditOutcome | void;

export interface CommitResult {
  /** The revision now in effect. */
  revision: number;
  changed: boolean;
  snapshot: Snapshot;
}

/** The stored admin states (drain/maint), handed to the runtime with every apply. */
export type AdminStateSource = () => Promise<AdminStateEntry[]>;

interface Head {
  revision: number;
  snapshot: Snapshot;
}

export interface ValidationResult extends SnapshotDiff {
  revision: number;
  changed: boolean;
  impact: ImpactReport;
}

@Injectable()
export class ConfigService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Config');
  private readonly mutex = new Mutex();
  private adminStates: AdminStateSource = async () => [];
  private head: Head = { revision: 0, snapshot: emptySnapshot() };
  private closing = false;

  constructor(
    @Inject(RUNTIME) private readonly runtime: ProxyRuntimeApi,
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
  ) {}

  /** The revision in effect (0 before the first change). */
  get revision(): number {
    return this.head.revision;
  }

  /** The snapshot in effect, secrets in clear: never hand it out of the API unmasked. */
  get snapshot(): Snapshot {
    return this.head.snapshot;
  }

  /**
   * Where admin states come from (the server-states service): every apply carries them, so a server
   * is never served, at boot or when it comes back into the config, without its stored state.
   */
  useAdminStates(source: AdminStateSource): void {
    this.adminStates = source;
  }

  /** For changes that make no revision (admin states, session kills): `If-Match` still guards them. */
  assertCurrent(ifMatch: number | undefined): void {
    if (ifMatch !== undefined && ifMatch !== this.head.revision) {
      throw new StaleRevisionError(ifMatch, this.head.revision);
    }
  }

  /** Runs `task` in the config's turn: no config change runs concurrently with it. */
  serialize<T>(task: () => Promise<T>): Promise<T> {
    return this.mutex.run(async () => {
      if (this.closing) throw new UnavailableError('Tether is shutting down');
      return task();
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    const row = await this.dataSource
      .getRepository(RevisionEntity)
      .findOne({ where: {}, order: { id: 'DESC' } });
    const snapshot = row ? normalizeSnapshot(JSON.parse(row.snapshot) as SnapshotInput) : emptySnapshot();
    // Boot serves what it can: a port taken or a name that doesn't resolve now must not keep the
    // other frontends down (the runtime retries both by itself).
    const result = await this.runtime.apply(snapshot, {
      tolerateBindErrors: true,
      tolerateUnresolvedNames: true,
      adminStates: await this.adminStates(),
    });
    this.head = { revision: row?.id ?? 0, snapshot };
    for (const failure of result.failedFrontends) {
      this.logger.error(
        `frontend "${failure.frontend}" is not listening: ${failure.code} ${failure.message}`,
      );
    }
    this.logger.log(
      `revision ${this.head.revision} applied: ${snapshot.frontends.length} frontend(s), ${snapshot.backends.length} backend(s)`,
    );
  }

  /** Lets the change in progress finish, then refuses new ones, so the database closes consistent. */
  async beforeApplicationShutdown(): Promise<void> {
    this.closing = true;
    await this.mutex.idle();
  }

  /** The pipeline. Every accepted change makes exactly one revision and is live when this resolves. */
  commit(request: ChangeRequest, edit: Edit): Promise<CommitResult> {
    const timing = request.context.timing;
    return this.serialize(async () => {
      timing?.mark('turn');
      // A stale request is refused (412) before anything else is said about it.
      this.checkPrecondition(request);
      const previous = this.head;
      const draft = structuredClone(previous.snapshot);
      const outcome = edit(draft) ?? {};
      const candidate = normalizeSnapshot(outcome.snapshot ?? draft, previous.snapshot);
      this.check(candidate, previous.snapshot, outcome.focus);

      timing?.mark('checks');
      if (!outcome.clearSecret && sameSnapshot(candidate, previous.snapshot)) {
        await this.audit.record({
          ...this.auditBase(request),
          result: 'ok',
          detail: 'nothing changed',
          revisionId: previous.revision || undefined,
        });
        return { revision: previous.revision, changed: false, snapshot: previous.snapshot };
      }

      // The rows the rehearsal reads serve the store too (nothing writes the tables in between).
      const reads = new TableReads();
      await this.rehearseStore(request, previous, candidate, reads);
      timing?.mark('rehearse');
      try {
        await this.runtime.apply(candidate, { adminStates: await this.adminStates() });
      } catch (error) {
        throw this.toDomainError(error, candidate, outcome.focus);
      }
      timing?.mark('apply');

      const revision = await this.store(request, previous, candidate, reads);
      timing?.mark('store');
      this.head = { revision, snapshot: candidate };
      return { revision, changed: true, snapshot: candidate };
    });
  }

  /** Dry run of a whole snapshot: the same checks as PUT /config, the diff against the head and the live impact. */
  async validate(input: SnapshotInput): Promise<ValidationResult> {
    return this.dryRun(input, 'candidate', (diff, head) =>
      markClearSecretsChanged(diff, head, clearSecretsOf(input.backends)),
    );
  }

  /**
   * Dry run of a rollback: the same checks as the rollback itself, the diff from the head to the
   * stored snapshot of revision `id` (secrets as stored, so a changed secret shows) and the impact.
   */
  validateRollback(target: Snapshot, id: number): Promise<ValidationResult> {
    return this.dryRun(target, `revision ${id}`);
  }

  private async dryRun(
    input: SnapshotInput,
    after: string,
    annotate?: (diff: SnapshotDiff, head: Snapshot) => void,
  ): Promise<ValidationResult> {
    const head = this.head;
    const candidate = normalizeSnapshot(input, head.snapshot);
    this.check(candidate, head.snapshot);
    // What only the runtime can tell (a host name that doesn't resolve), as the change would hear it.
    try {
      await this.runtime.check(candidate);
    } catch (error) {
      throw this.toDomainError(error, candidate);
    }
    const diff = diffSnapshots(head.snapshot, candidate, { before: `revision ${head.revision}`, after });
    annotate?.(diff, head.snapshot);
    return {
      revision: head.revision,
      changed: diff.changes.length > 0,
      ...diff,
      impact: await this.runtime.impact(candidate),
    };
  }

  /** Throws one DomainError carrying every issue (up to LIMITS.issues), the most relevant first. */
  private check(candidate: Snapshot, stored: Snapshot, focus?: string): void {
    try {
      keepStoredSecrets(candidate, stored);
    } catch (error) {
      const e = error as ValidationError;
      throw issuesError([{ kind: 'invalid', field: e.field ?? '', message: e.message }], focus);
    }
    const issues = checkCandidate(candidate, stored, focus);
    if (issues.length > 0) throw issuesError(issues, focus);
  }

  private checkPrecondition(request: ChangeRequest): void {
    this.assertCurrent(request.context.ifMatch);
    this.assertCurrent(request.basedOn);
  }

  /**
   * Writes the change in a transaction that is then rolled back: a write that would fail (a database
   * refusing it, a constraint, a full disk) is found before the runtime is touched. The write itself
   * never yields to the event loop (better-sqlite3 is synchronous), so no other request's writes can
   * join the rehearsal's transaction; the runtime apply can't go inside the real one for that reason.
   */
  private async rehearseStore(
    request: ChangeRequest,
    previous: Head,
    candidate: Snapshot,
    reads: TableReads,
  ): Promise<void> {
    const rehearsed = Symbol('rehearsed');
    try {
      await this.dataSource.transaction(async (manager) => {
        await this.writeChange(manager, request, previous, candidate, reads);
        throw rehearsed;
      });
    } catch (error) {
      if (error === rehearsed) return;
      this.logger.error(`the change could not be stored, nothing applied: ${(error as Error).message}`);
      throw new CommitError(
        `the change could not be stored; revision ${previous.revision} is still in effect`,
      );
    }
  }

  /** Tables, revision and audit event in one transaction; on failure the runtime goes back to `previous`. */
  private async store(
    request: ChangeRequest,
    previous: Head,
    candidate: Snapshot,
    reads: TableReads,
  ): Promise<number> {
    try {
      return await this.dataSource.transaction((manager) =>
        this.writeChange(manager, request, previous, candidate, reads),
      );
    } catch (error) {
      this.logger.error(
        `could not store the change, putting revision ${previous.revision} back: ${(error as Error).message}`,
      );
      try {
        // Put back as much as can be, as at boot: a port or a name lost meanwhile is retried by the runtime.
        await this.runtime.apply(previous.snapshot, {
          adminStates: await this.adminStates(),
          tolerateBindErrors: true,
          tolerateUnresolvedNames: true,
        });
      } catch (restoreError) {
        this.logger.error(
          `could not put revision ${previous.revision} back: ${(restoreError as Error).message}`,
        );
      }
      throw new CommitError(
        `the change could not be stored; revision ${previous.revision} is still in effect`,
      );
    }
  }

  private async writeChange(
    manager: EntityManager,
    request: ChangeRequest,
    previous: Head,
    candidate: Snapshot,
    reads: TableReads,
  ): Promise<number> {
    await writeSnapshotTables(manager, candidate, previous.snapshot, reads);
    // One prepared INSERT (no row read back, no statement built per change; createdAt is the column's default).
    const inserted: unknown = await manager.query(INSERT_REVISION, [
      previous.revision || null,
      request.kind,
      request.context.actor.username,
      request.context.message ?? request.message,
      snapshotJson(candidate),
    ]);
    // better-sqlite3's answer to an INSERT is the new row's id (lastInsertRowid).
    const id = Number(inserted);
    if (!Number.isSafeInteger(id) || id <= 0)
      throw new Error(`no revision id from the insert: ${String(inserted)}`);
    await this.audit.recordWith(manager, {
      ...this.auditBase(request),
      result: 'ok',
      detail: `revision ${id} (${request.kind})`,
      revisionId: id,
    });
    return id;
  }

  private auditBase(request: ChangeRequest) {
    return {
      actor: request.context.actor,
      sourceAddress: request.context.sourceAddress,
      action: request.action,
      target: request.target,
    };
  }

  private toDomainError(error: unknown, candidate: Snapshot, focus?: string): Error {
    if (!(error instanceof RuntimeError)) return error as Error;
    const { subject } = error;
    const index = subject.frontend ? candidate.frontends.findIndex((f) => f.name === subject.frontend) : -1;
    if (error.code === 'BIND_FAILED') {
      const field = relativeField(
        index >= 0 ? failedBindField(candidate, index, subject.bind) : 'bind',
        focus,
      );
      return new ApplyError(`${field}: ${error.message}`, field, error.cause_code);
    }
    if (error.code === 'INVALID_SNAPSHOT' || error.code === 'UNKNOWN_BACKEND') {
      const field = subject.field ?? 'snapshot';
      // A host name that doesn't resolve (cause_code: the DNS error) names nothing that exists: 422.
      const kind =
        error.code === 'INVALID_SNAPSHOT' && error.cause_code === undefined ? 'invalid' : 'unknown-reference';
      return issuesError(
        [
          {
            kind,
            field,
            message: error.message.startsWith(field) ? error.message : `${field}: ${error.message}`,
          },
        ],
        focus,
      );
    }
    return error;
  }
}

const INSERT_REVISION =
  'INSERT INTO "revisions" ("parentId", "kind", "author", "message", "snapshot") VALUES (?, ?, ?, ?, ?)';

/**
 * The field of the bind that failed, named as the document check names binds: `bind` for a frontend of one
 * address, `binds[j]` for one of several; `bind` when the runtime didn't say which.
 */
function failedBindField(
  candidate: Snapshot,
  index: number,
  failed: { address: string; port: number } | undefined,
): string {
  const { binds } = candidate.frontends[index];
  const j = failed ? binds.findIndex((b) => b.address === failed.address && b.port === failed.port) : -1;
  return binds.length > 1 && j >= 0 ? `frontends[${index}].binds[${j}]` : `frontends[${index}].bind`;
}

function relativeField(field: string, focus?: string): string {
  return focus && field.startsWith(`${focus}.`) ? field.slice(focus.length + 1) : field;
}

const ERROR_OF_KIND: Record<
  IssueKind,
  {
    code: DomainErrorCode;
    make: new (message: string, field?: string, entries?: ErrorEntry[]) => DomainError;
  }
> = {
  invalid: { code: 'VALIDATION_FAILED', make: ValidationError },
  'too-large': { code: 'LIMIT_EXCEEDED', make: LimitExceededError },
  'unknown-reference': { code: 'UNKNOWN_REFERENCE', make: UnknownReferenceError },
  'not-built': { code: 'NOT_IMPLEMENTED', make: NotImplementedError },
  conflict: { code: 'CONFLICT', make: ConflictError },
};

/**
 * The issues (at least one) as one typed error: of the first issue's kind, naming its field, and
 * listing every issue in `errors`; fields inside the edited item are named relative to the request.
 */
function issuesError(all: SnapshotIssue[], focus?: string): DomainError {
  // A request that edits one item hears about that item: the far end of a clash names it in its message.
  const under = focus ? all.filter((i) => i.field.startsWith(`${focus}.`)) : [];
  const issues = under.length > 0 ? under : all;
  const entries = issues.map((issue): ErrorEntry => {
    const field = relativeField(issue.field, focus);
    const message = issue.message.startsWith(issue.field)
      ? field + issue.message.slice(issue.field.length)
      : issue.message;
    return { field, code: ERROR_OF_KIND[issue.kind].code, message };
  });
  const [first] = entries;
  return new ERROR_OF_KIND[issues[0].kind].make(first.message, first.field || undefined, entries);
}

/**
 * A dry run never compares a secret given in clear with the stored one: each counts as changed
 * (shown masked on both sides), as commit counts it (EditOutcome.clearSecret).
 */
function markClearSecretsChanged(diff: SnapshotDiff, head: Snapshot, clearSecrets: string[]): void {
  if (clearSecrets.length === 0) return;
  const listed = new Set(diff.changes.map((c) => c.path));
  const stored = new Map(head.backends.map((b) => [b.name, b.check.cmpp]));
  for (const name of clearSecrets) {
    const path = `backends[${name}].check.cmpp.secret`;
    if (stored.get(name) && !listed.has(path)) {
      diff.changes.push({ path, kind: 'changed', before: SECRET_MASK, after: SECRET_MASK });
    }
  }
}
