import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export type AuditResult = 'ok' | 'failed' | 'denied';

/** Who did what, when, from where, with what result. Append-only. */
@Entity('audit_events')
export class AuditEventEntity {
  @PrimaryGeneratedColumn()
  id: number;

  @Index('IDX_audit_events_at')
  @Column({ type: 'datetime' })
  at: Date;

  @Index('IDX_audit_events_actor')
  @Column({ type: 'varchar' })
  actor: string;

  @Column({ type: 'varchar' })
  role: string;

  @Column({ type: 'varchar', nullable: true })
  sourceAddress: string | null;

  @Index('IDX_audit_events_action')
  @Column({ type: 'varchar' })
  action: string;

  @Column({ type: 'varchar', nullable: true })
  target: string | null;

  @Column({ type: 'varchar' })
  result: AuditResult;

  @Column({ type: 'text', nullable: true })
  detail: string | null;

  @Column({ type: 'integer', nullable: true })
  revisionId: number | null;
}
