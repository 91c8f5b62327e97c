import { useEffect, useState } from 'preact/hooks';
import { ModelSensitivity, SetThreshold } from '../graphql/operations.ts';
import { gql } from '../client/api.ts';
import { messageOf } from '../client/failure.ts';
import { count, fmt } from '../lib/format.ts';
import { confusion, scoresOf, type Confusion, type Probe, type Score } from '../lib/scores.ts';
import { reload } from '../state/load.ts';
import { notify } from '../state/notices.ts';
import type { Model } from '../state/types.ts';
import { Dialog } from './dialog.tsx';
import { SensitivityGrid } from './sensitivity-grid.tsx';

export function EffectCells({ c }: { c: Confusion }) {
  const ok = c.okPass + c.okReject;
  const ng = c.ngCaught + c.ngMissed;
  const cell = (label: string, n: number, total: number, cls: string) => (
    <div>
      <b class={cls || undefined}>{`${n} / ${total}`}</b>
      {label}
    </div>
  );
  return (
    <>
      {cell('OK pictures passed', c.okPass, ok, 'tally-good')}
      {cell('OK pictures rejected (false alarms)', c.okReject, ok, c.okReject ? 'tally-bad' : '')}
      {cell('NG pictures caught', c.ngCaught, ng, 'tally-good')}
      {cell('NG pictures missed', c.ngMissed, ng, c.ngMissed ? 'tally-bad' : '')}
    </>
  );
}

/** A model's threshold, previewed on the labelled training pictures before it is saved. */
export function TunePanel({ model: m }: { model: Model }) {
  const [scores, setScores] = useState<Score[] | null>(null);
  const [note, setNote] = useState('Measuring on the labelled training pictures…');
  const [value, setValue] = useState(m.predictParameters.threshold);
  const [top, setTop] = useState(1);
  const [saved, setSaved] = useState('');
  const [probes, setProbes] = useState<Probe[] | null>(null);
  useEffect(() => {
    // what the model catches needs no labelled pictures: it was measured in training
    gql(ModelSensitivity, { id: m.id }).then(
      (r) => setProbes(r.model?.stats?.sensitivity ?? null),
      () => setProbes(null),
    );
  }, [m.id]);
  useEffect(() => {
    scoresOf(m).then(
      (s) => {
        setTop(Math.max(m.predictParameters.threshold * 2, ...s.map((x) => x.score)) || 1);
        setValue(m.predictParameters.threshold);
        setScores(s);
        setNote(
          `Effect on ${count(s.length, 'labelled training picture')} before saving (a score above the threshold is BAD). Saved now: ${fmt(m.predictParameters.threshold)}.`,
        );
      },
      (err) => setNote(`Cannot measure: ${messageOf(err)}`),
    );
  }, [m.id]);

  async function save() {
    try {
      await gql(SetThreshold, { modelId: m.id, threshold: value });
      setSaved(`Saved: ${fmt(value)}`);
      notify(`${m.name}: threshold ${fmt(value)} saved`);
      await reload();
    } catch (err) {
      notify('Could not save the threshold', err);
    }
  }

  return (
    <Dialog id="tune" title={`Threshold of ${m.name} v${m.version}`}>
      <p id="tune-note" class="muted small">
        {note}
      </p>
      <label>
        Threshold <b id="tune-value">{scores ? fmt(value) : ''}</b>
        <input
          id="tune-slider"
          class="slider"
          type="range"
          min="0"
          max={String(top)}
          step={String(top / 1000)}
          disabled={!scores}
          value={String(value)}
          onInput={(e) => setValue(Number(e.currentTarget.value))}
        />
      </label>
      <div id="tune-effect" class="effect">
        {scores ? <EffectCells c={confusion(scores, value)} /> : null}
      </div>
      {probes?.length ? (
        <>
          <SensitivityGrid probes={probes} threshold={value} />
          <p class="muted small">
            Synthetic defects painted into training pictures that the model had not learnt from, each cell how many of them this threshold catches (a box on
            them). σ: the picture's own spread of grey levels (1σ subtle, 4σ plain to see).
          </p>
        </>
      ) : null}
      <div class="row">
        <button id="tune-save" type="button" class="primary" disabled={!scores} onClick={save}>
          Save threshold
        </button>
        <span id="tune-saved" class="muted small">
          {saved}
        </span>
      </div>
    </Dialog>
  );
}
