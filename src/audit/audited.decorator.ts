import { SetMetadata } from '@nestjs/common';

export const AUDIT_ACTION = 'tether:audit-action';

/**
 * Marks a state-changing route with its audit action. A request that fails (validation, not found,
 * conflict, runtime refusal...) is then recorded as `failed` by AuditInterceptor; success is recorded by
 * the service, which knows the detail and the revision.
 */
export const Audited = (action: string) => SetMetadata(AUDIT_ACTION, action);
