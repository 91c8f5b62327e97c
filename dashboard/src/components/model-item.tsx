import { can } from '../client/session.ts';
import { fmt } from '../lib/format.ts';
import { activate, cancel, removeModel } from '../state/models.ts';
import { panel, selected } from '../state/store.ts';
import type { Model } from '../state/types.ts';
import { ActionButton } from './action-button.tsx';

function toggle(id: string, on: boolean) {
  const next = new Set(selected.value);
  if (on) next.add(id);
  else next.delete(id);
  selected.value = next;
}

/** One model: status, progress while it trains, and what an engineer can do with it. */
export function ModelItem({ m }: { m: Model }) {
  const running = m.status === 'TRAINING' || m.status === 'QUEUED';
  const ready = m.status === 'READY';
  const train = can('TRAIN');
  const parts = [`v${m.version}`, m.algorithm.name, `${m.okImageCount} OK / ${m.ngImageCount} NG`];
  if (ready) parts.push(`threshold ${fmt(m.predictParameters.threshold)}`);
  if (m.stats?.accuracy != null) parts.push(`accuracy ${(m.stats.accuracy * 100).toFixed(0)}%`);
  if (m.trainingTime != null && ready) parts.push(`${m.trainingTime.toFixed(1)} s`);
  const progress = Math.round(Math.max(0, Math.min(1, m.progress)) * 100);
  return (
    <li class={`model${m.active ? ' is-active' : ''}`} data-id={m.id}>
      <div class="model-head">
        {train && ready ? (
          // Ticked models are what "Export selected" puts in the archive.
          <input
            type="checkbox"
            class="select"
            checked={selected.value.has(m.id)}
            aria-label={`Select ${m.name} for export`}
            onChange={(e) => toggle(m.id, e.currentTarget.checked)}
          />
        ) : null}
        <span class="name" title={m.name}>
          {m.name}
        </span>
        <span class="pill active" hidden={!m.active}>
          ACTIVE
        </span>
        <span class={`pill status s-${m.status}`}>{m.status}</span>
      </div>
      <div class="model-sub muted">{parts.join(' · ')}</div>
      <div class="progress" hidden={!running}>
        <i style={{ width: `${progress}%` }}></i>
      </div>
      <div class="stage muted small" hidden={!running}>
        {running ? `${m.stage || m.status.toLowerCase()} · ${Math.round(m.progress * 100)}%` : ''}
      </div>
      <div class="status-text" hidden={!(m.statusText && (m.status === 'FAILED' || m.status === 'CANCELLED'))}>
        {m.statusText ?? ''}
      </div>
      <div class="actions">
        {train && ready && !m.active ? <ActionButton label="Activate" onClick={() => activate(m)} /> : null}
        {train && ready ? <ActionButton label="Threshold…" onClick={() => (panel.value = { kind: 'tune', model: m })} /> : null}
        {train && ready ? <ActionButton label="Regions…" onClick={() => (panel.value = { kind: 'regions', model: m })} /> : null}
        {train && running ? <ActionButton label="Cancel" onClick={() => cancel(m)} /> : null}
        {train && !running ? <ActionButton label="Delete" onClick={() => removeModel(m)} /> : null}
      </div>
    </li>
  );
}
