import { can } from '../client/session.ts';
import { time } from '../lib/format.ts';
import { activate } from '../state/models.ts';
import { models, target } from '../state/store.ts';
import { ActionButton } from './action-button.tsx';

/** The target's activations, newest first; an earlier model can be activated again (a rollback). */
export function HistoryList() {
  const lines = target.value?.activations ?? [];
  return (
    <>
      <h2 id="history-title" class="small" hidden={!lines.length}>
        Activations
      </h2>
      <ol id="history" class="history" hidden={!lines.length}>
        {lines.map((l, i) => {
          const when = new Date(l.at);
          const text = `${when.toLocaleDateString([], { month: 'short', day: 'numeric' })} ${time(l.at)} · ${l.model.name} v${l.model.version}${
            l.previousModel ? ` (was ${l.previousModel.name} v${l.previousModel.version})` : ''
          }${l.by ? ` · by ${l.by}` : ''}`;
          const m = models.value.find((x) => x.id === l.model.id);
          // The newest line is what is active now; an older line of the same model needs no button.
          let tail = null;
          if (m?.active) {
            if (i === 0) tail = <span class="pill active">ACTIVE</span>;
          } else if (m && m.status === 'READY' && can('TRAIN')) {
            tail = <ActionButton label="Activate again" onClick={() => activate(m)} />;
          }
          return (
            <li key={l.id} data-model-id={l.model.id}>
              <span class="text" title={text}>
                {text}
              </span>
              {tail}
            </li>
          );
        })}
      </ol>
    </>
  );
}
