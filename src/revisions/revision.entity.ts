import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export const REVISION_KINDS = ['change', 'rollback', 'import', 'replace'] as const;
export type RevisionKind = (typeof REVISION_KINDS)[number];

/** One accepted config change: the whole snapshot after it. The highest id is the head. */
@Entity('revisions')
export class RevisionEntity {
  @PrimaryGeneratedColumn()
  id: number;

  @Index('IDX_revisions_parentId')
  @Column({ type: 'integer', nullable: true })
  parentId: number | null;

  @Column({ type: 'varchar' })
  kind: RevisionKind;

  @Column({ type: 'varchar' })
  author: string;

  @Column({ type: 'varchar' })
  message: string;

  @CreateDateColumn({ type: 'datetime' })
  createdAt: Date;

  /** The whole snapshot as JSON, secrets in clear (masked on the way out of the API). */
  @Column({ type: 'text' })
  snapshot: string;
}
