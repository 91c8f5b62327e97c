import { useState } from 'preact/hooks';
import { PredictImages, TrainModel } from '../graphql/operations.ts';
import { gql } from '../client/api.ts';
import { can } from '../client/session.ts';
import { count, fmt } from '../lib/format.ts';
import { picturesOf } from '../lib/pictures.ts';
import { addResult } from '../state/live.ts';
import { reload } from '../state/load.ts';
import { notify } from '../state/notices.ts';
import { activeModel, activeModelId, models, results, retrainOffered, reviewed, target } from '../state/store.ts';
import { ResultCard } from './result-card.tsx';

async function predictFiles(files: FileList | null, setBusy: (b: boolean) => void) {
  const images = picturesOf(files, 'judged');
  if (!images.length) return;
  const modelId = activeModelId.value;
  if (!modelId) {
    notify('Cannot predict', new Error('there is no active model: activate a READY model first'));
    return;
  }
  setBusy(true);
  try {
    const { predictImages } = await gql(PredictImages, { modelId, files: [] }, { files: images });
    for (const a of predictImages) addResult(a, true);
    const bad = predictImages.filter((a) => a.result === 'BAD').length;
    notify(`${predictImages.length} picture${predictImages.length === 1 ? '' : 's'} judged: ${predictImages.length - bad} GOOD, ${bad} BAD`);
  } catch (err) {
    notify('Could not predict the pictures', err);
  } finally {
    setBusy(false);
  }
}

async function retrain(setBusy: (b: boolean) => void) {
  const active = activeModel.value;
  if (!active || !target.value) return;
  setBusy(true);
  try {
    const { trainModel: m } = await gql(TrainModel, { algorithmId: active.algorithm.id, name: active.name, targetId: target.value.id });
    notify(`Training ${m.name} again with ${count(reviewed.value, 'reviewed picture')} more; activate it when it is READY`, null, 'info');
    reviewed.value = 0;
    retrainOffered.value = false;
    await reload();
  } catch (err) {
    notify('Could not start training', err);
  } finally {
    setBusy(false);
  }
}

function Summary() {
  const all = results.value.map((r) => r.result);
  if (!activeModelId.value) {
    const ready = models.value.some((m) => m.status === 'READY');
    return (
      <p id="feed-summary" class="muted small">
        {ready
          ? 'Activate a READY model to judge pictures.'
          : models.value.length
            ? 'Activate a READY model to judge pictures (wait for training to finish).'
            : 'Train a model, then activate it to judge pictures.'}
      </p>
    );
  }
  if (!all.length) {
    return (
      <p id="feed-summary" class="muted small">
        Waiting for results…
      </p>
    );
  }
  const bad = all.filter((a) => a.result === 'BAD').length;
  return (
    <p id="feed-summary" class="muted small">
      {`${all.length} latest: `}
      <span class="tally-good">{`${all.length - bad} GOOD`}</span>
      {' · '}
      <span class="tally-bad">{`${bad} BAD`}</span>
    </p>
  );
}

/** The live results of the active model; pictures dropped here (or picked) are judged by it. */
export function FeedColumn() {
  const [dragDepth, setDragDepth] = useState(0);
  const [predicting, setPredicting] = useState(false);
  const [retraining, setRetraining] = useState(false);
  const active = activeModel.value;
  const noActive = !active || predicting;
  return (
    // biome-ignore lint/a11y/noStaticElementInteractions: a drop target for picture files; "Predict pictures…" is the same from the keyboard
    <section
      id="feed-col"
      class={`feed-col${dragDepth > 0 ? ' dragging' : ''}`}
      onDragEnter={(e) => {
        e.preventDefault();
        setDragDepth((d) => d + 1);
      }}
      onDragOver={(e) => e.preventDefault()}
      onDragLeave={() => setDragDepth((d) => Math.max(0, d - 1))}
      onDrop={(e) => {
        e.preventDefault();
        setDragDepth(0);
        void predictFiles(e.dataTransfer?.files ?? null, setPredicting);
      }}
    >
      <div class="card predict">
        <div>
          <h2>
            Live results{' '}
            <span id="feed-model" class="count">
              {active ? `${active.name} v${active.version} · threshold ${fmt(active.predictParameters.threshold)}` : 'no active model'}
            </span>
          </h2>
          <Summary />
        </div>
        <button
          id="retrain"
          type="button"
          hidden={!retrainOffered.value}
          disabled={retraining}
          title="Train the active model's algorithm again, with the reviewed pictures"
          onClick={() => void retrain(setRetraining)}
        >
          Retrain with reviews
        </button>
        <label id="predict-btn" class={`file-btn primary${noActive ? ' disabled' : ''}`} hidden={!can('PREDICT')} title="Or drop pictures on the results">
          Predict pictures…
          <input
            type="file"
            id="predict-files"
            multiple
            disabled={!active}
            onChange={(e) => {
              const input = e.currentTarget;
              void predictFiles(input.files, setPredicting);
              input.value = '';
            }}
          />
        </label>
      </div>
      <ol id="feed" class="feed">
        {results.value.map((r) => (
          <ResultCard key={r.result.id} card={r} />
        ))}
      </ol>
      <p id="feed-empty" class="empty" hidden={results.value.length > 0}>
        {activeModelId.value
          ? 'No results yet. Predict pictures here, or send them from the line: results appear as they are judged.'
          : 'No active model: results appear here once a model is activated.'}
      </p>
    </section>
  );
}
