import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { ServerStatesService } from '../backends/server-states.service.js';
import { ConfigService } from '../config/config.service.js';
import { normalizeSnapshot, type SnapshotInput } from '../config/normalize.js';
import { getEntityOrThrow } from '../database/get-entity-or-throw.js';
import { RevisionEntity } from '../revisions/revision.entity.js';
import { exportHaproxy } from '../haproxy/export.js';

export interface HaproxyFile {
  revision: number;
  text: string;
}

/** The config in effect, or any stored revision, as a haproxy.cfg (docs/haproxy-export.md). */
@Injectable()
export class HaproxyExportService {
  constructor(
    @InjectRepository(RevisionEntity) private readonly revisions: Repository<RevisionEntity>,
    private readonly config: ConfigService,
    private readonly serverStates: ServerStatesService,
  ) {}

  async head(): Promise<HaproxyFile> {
    // Read together, before any await: the snapshot is the one of that revision.
    const { revision, snapshot } = this.config;
    const row =
      revision === 0
        ? null
        : await this.revisions.findOne({ select: { id: true, createdAt: true }, where: { id: revision } });
    // The head's servers in maint are written `disabled`; a past revision has no admin states (docs/haproxy-export.md).
    const maint = await this.serverStates.inMaint();
    const text = exportHaproxy(snapshot, {
      revision,
      createdAt: row?.createdAt,
      exportedAt: new Date(),
      maint,
    });
    return { revision, text };
  }

  /** 404 for a revision never stored or pruned by retention. */
  async revision(id: number): Promise<HaproxyFile> {
    const row = await getEntityOrThrow(this.revisions, { id }, 'revision', id);
    const snapshot = normalizeSnapshot(JSON.parse(row.snapshot) as SnapshotInput);
    const text = exportHaproxy(snapshot, { revision: id, createdAt: row.createdAt, exportedAt: new Date() });
    return { revision: id, text };
  }
}
