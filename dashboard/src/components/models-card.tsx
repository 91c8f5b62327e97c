import { can } from '../client/session.ts';
import { models, panel } from '../state/store.ts';
import { ArchiveRow } from './archive-row.tsx';
import { HistoryList } from './history-list.tsx';
import { ModelItem } from './model-item.tsx';

export function ModelsCard() {
  const list = models.value;
  const ready = list.filter((m) => m.status === 'READY').length;
  return (
    <section class="card">
      <h2>
        Models{' '}
        <span id="model-count" class="count">
          {list.length ? String(list.length) : ''}
        </span>
      </h2>
      <ul id="models" class="models">
        {list.map((m) => (
          <ModelItem key={m.id} m={m} />
        ))}
      </ul>
      <p id="models-empty" class="empty-note" hidden={list.length > 0}>
        No models yet: add OK pictures and train one.
      </p>
      <div class="row" id="compare-row" hidden={!can('TRAIN') || ready < 2}>
        <button id="open-compare" type="button" class="small" onClick={() => (panel.value = { kind: 'compare' })}>
          Compare two models…
        </button>
      </div>
      <ArchiveRow />
      <HistoryList />
    </section>
  );
}
