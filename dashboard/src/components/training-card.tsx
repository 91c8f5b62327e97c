import { useRef, useState } from 'preact/hooks';
import { AddTrainingItems, TrainModel } from '../graphql/operations.ts';
import { gql } from '../client/api.ts';
import { can } from '../client/session.ts';
import { picturesOf } from '../lib/pictures.ts';
import { reload } from '../state/load.ts';
import { notify } from '../state/notices.ts';
import { algorithms, panel, target, training } from '../state/store.ts';

/** The automatic choice's id: it trains the algorithms that fit the pictures and keeps the best. */
const AUTO = 'auto';

async function addTraining(picked: FileList | null, good: boolean) {
  const label = good ? 'OK' : 'NG';
  const files = picturesOf(picked, `added as ${label} pictures`);
  if (!files.length) return;
  try {
    const { addItems } = await gql(AddTrainingItems, { good, targetId: target.value?.id ?? null, files: [] }, { files });
    notify(`${addItems.items.length} ${label} picture${addItems.items.length === 1 ? '' : 's'} added to the training data`);
    await reload();
  } catch (err) {
    notify(`Could not add ${label} pictures`, err);
  }
}

/** Training pictures (OK/NG) and a new model from them. */
export function TrainingCard() {
  const { ok, ng, total } = training.value;
  const algorithm = useRef<HTMLSelectElement>(null);
  const name = useRef<HTMLInputElement>(null);
  const [busy, setBusy] = useState(false);
  // Why Train cannot start, in the page's own terms (the gateway would refuse it anyway).
  let reason = '';
  if (!algorithms.value.length) reason = 'No algorithm is installed on the gateway.';
  else if (!target.value || ok === 0) reason = 'Add OK pictures (good parts) first: a model learns what good looks like.';

  async function train(e: Event) {
    e.preventDefault();
    setBusy(true);
    const wanted = name.current!.value.trim();
    try {
      const { trainModel: m } = await gql(TrainModel, { algorithmId: algorithm.current!.value, name: wanted || null, targetId: target.value?.id ?? null });
      notify(`Training ${m.name} started`, null, 'info');
      name.current!.value = '';
      await reload();
    } catch (err) {
      notify('Could not start training', err);
    } finally {
      setBusy(false);
    }
  }

  const onPick = (good: boolean) => (e: Event) => {
    const input = e.currentTarget as HTMLInputElement;
    void addTraining(input.files, good);
    input.value = '';
  };
  return (
    <section class="card" id="training-card" hidden={!can('TRAIN')}>
      <h2>
        Training data{' '}
        <span id="training-count" class="count">
          {target.value ? `${ok} OK · ${ng} NG${total > ok + ng ? ` · ${total - ok - ng} unlabelled` : ''}` : ''}
        </span>
      </h2>
      <div class="row">
        <label class="file-btn ok" title="Add pictures of good parts">
          + OK pictures
          <input type="file" id="add-ok" multiple onChange={onPick(true)} />
        </label>
        <label class="file-btn ng" title="Add pictures of defective parts">
          + NG pictures
          <input type="file" id="add-ng" multiple onChange={onPick(false)} />
        </label>
      </div>
      <form id="train-form" class="row" onSubmit={train}>
        <select id="train-algorithm" ref={algorithm} aria-label="Algorithm" required disabled={!!reason}>
          {/* The automatic choice first, so it is what Train uses unless the engineer picks one. */}
          {[...algorithms.value]
            .sort((a, b) => Number(b.id === AUTO) - Number(a.id === AUTO))
            .map((a) => (
              <option key={a.id} value={a.id}>
                {a.id === AUTO ? `${a.name} (recommended)` : a.name}
              </option>
            ))}
        </select>
        <input id="train-name" ref={name} placeholder="Model name (optional)" aria-label="Model name" />
        <button class="primary" type="submit" id="train-button" disabled={!!reason || busy}>
          Train
        </button>
      </form>
      <p id="train-reason" class="reason" role="status">
        {reason}
      </p>
      <div class="row">
        <button
          id="open-target-regions"
          type="button"
          class="small"
          title="Where to look on every picture of this target"
          onClick={() => (panel.value = { kind: 'regions', model: null })}
        >
          Target regions…
        </button>
      </div>
    </section>
  );
}
