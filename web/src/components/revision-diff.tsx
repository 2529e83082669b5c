import { useEffect, useState } from 'preact/hooks';
import { describeError } from '../api.js';
import { parseUnified } from '../diff.js';
import { revisionDiff } from '../revisions-api.js';
import type { SnapshotDiff } from '../types.js';
import { ChangeList, SideBySide } from './diff-view.js';

/** Readable diff of two revisions: the changed fields, and the documents side by side. */
export function RevisionDiff({ before, after }: { before: number; after: number }) {
  const [diff, setDiff] = useState<SnapshotDiff | null>(null);
  const [error, setError] = useState('');
  const [view, setView] = useState<'fields' | 'side'>('side');
  useEffect(() => {
    setDiff(null);
    setError('');
    revisionDiff(after, before)
      .then(setDiff)
      .catch((e) => setError(describeError(e)));
  }, [before, after]);
  if (error) return <p class="form-error">Cannot load the diff: {error}</p>;
  if (!diff) return <p class="muted">Loading diff…</p>;
  return (
    <div class="revision-diff">
      <div class="tabs" role="group" aria-label="Diff view">
        <button type="button" aria-pressed={view === 'side'} onClick={() => setView('side')}>
          Side by side
        </button>
        <button type="button" aria-pressed={view === 'fields'} onClick={() => setView('fields')}>
          Changed fields ({diff.changes.length})
        </button>
      </div>
      {view === 'fields' ? (
        <ChangeList changes={diff.changes} />
      ) : (
        <SideBySide ops={parseUnified(diff.text)} left={`revision ${before}`} right={`revision ${after}`} />
      )}
    </div>
  );
}
