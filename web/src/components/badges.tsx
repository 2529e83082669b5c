import { useState } from 'preact/hooks';
import type { ServerStats } from '../types.js';

// HAProxy's stats-page colours, with DRAIN and MAINT kept apart and a text label on every badge.
export type HealthLook = { cls: string; label: string; title: string };

export function healthLook(s: ServerStats): HealthLook {
  const last = s.check_status
    ? `last check ${s.check_status}${s.check_desc ? ` (${s.check_desc})` : ''}`
    : '';
  if (!s.checked || s.status === 'no check')
    return { cls: 'h-nocheck', label: 'no check', title: 'health checks disabled' };
  if (s.check_status === 'INI' || (s.lastCheckAt === 0 && s.check_status === ''))
    return { cls: 'h-checking', label: 'checking', title: 'first check in progress' };
  const transitional = /^(UP|DOWN)\s+(\d+\/\d+)/.exec(s.status);
  if (transitional && transitional[1] === 'UP')
    return { cls: 'h-goingdown', label: `UP ↓ ${transitional[2]}`, title: `UP, going down — ${last}` };
  if (transitional && transitional[1] === 'DOWN')
    return { cls: 'h-goingup', label: `DOWN ↑ ${transitional[2]}`, title: `DOWN, going up — ${last}` };
  return s.health === 'UP'
    ? { cls: 'h-up', label: 'UP', title: last }
    : { cls: 'h-down', label: 'DOWN', title: last };
}

export function HealthBadge({ server }: { server: ServerStats }) {
  const look = healthLook(server);
  return (
    <span class={`badge ${look.cls}`} title={look.title} data-testid="health">
      {look.label}
    </span>
  );
}

const ADMIN_LABEL = { ready: 'READY', drain: 'DRAIN', maint: 'MAINT' } as const;
const ADMIN_TITLE = {
  ready: 'takes new connections',
  drain: 'DRAIN: up, no new connections; existing ones kept',
  maint: 'MAINT: maintenance, no new connections, checks paused',
} as const;

export function AdminBadge({ state }: { state: ServerStats['adminState'] }) {
  return (
    <span class={`badge a-${state}`} title={ADMIN_TITLE[state]} data-testid="admin">
      {ADMIN_LABEL[state]}
    </span>
  );
}

/** Always on screen: what every colour means. On a phone it folds into a "?" button (CSS decides the width). */
export function Legend() {
  const [open, setOpen] = useState(false);
  return (
    <footer class={`legend${open ? ' legend-open' : ''}`} aria-label="Legend">
      <button
        type="button"
        class="legend-toggle"
        aria-expanded={open}
        aria-label={open ? 'Hide the legend' : 'Show the legend'}
        title="What the colours mean"
        onClick={() => setOpen(!open)}
      >
        {open ? '×' : '?'}
      </button>
      <span class="legend-group">
        <b>Health</b>
        <span class="badge h-up">UP</span>
        <span class="badge h-goingdown">UP ↓ going down</span>
        <span class="badge h-goingup">DOWN ↑ going up</span>
        <span class="badge h-down">DOWN</span>
        <span class="badge h-checking">checking</span>
        <span class="badge h-nocheck">no check</span>
      </span>
      <span class="legend-group">
        <b>Admin</b>
        <span class="badge a-ready">READY</span>
        <span class="badge a-drain" title={ADMIN_TITLE.drain}>
          DRAIN = up, no new connections
        </span>
        <span class="badge a-maint" title={ADMIN_TITLE.maint}>
          MAINT = no new connections, checks paused
        </span>
        <span class="badge backup">backup</span>
      </span>
    </footer>
  );
}
