import { useEffect, useRef, useState } from 'preact/hooks';
import { ModelRegions, ResetModelRegions, SetRegions, TargetRegions } from '../graphql/operations.ts';
import { gql } from '../client/api.ts';
import { GraphQLFailure, messageOf } from '../client/failure.ts';
import { loadImage } from '../lib/draw.ts';
import { count } from '../lib/format.ts';
import { drawRegions, type Drawing, type EditRegion } from '../lib/regions-canvas.ts';
import { target } from '../state/store.ts';
import type { Model, Region } from '../state/types.ts';
import { Dialog } from './dialog.tsx';

const copyRegion = (r: Region): EditRegion => ({
  mode: r.mode,
  sensitivity: r.sensitivity,
  label: r.label ?? null,
  points: r.points.map((p) => ({ x: p.x, y: p.y })),
  error: '',
});
const OWN = "This model has its own regions; they override the target's.";

/** Include and exclude polygons on a reference picture, for a model or (model null) its target. */
export function RegionsPanel({ model }: { model: Model | null }) {
  const t = target.value;
  const canvas = useRef<HTMLCanvasElement>(null);
  const [image, setImage] = useState<HTMLImageElement | null>(null);
  const [regions, setRegions] = useState<EditRegion[]>([]);
  const [drawing, setDrawing] = useState<Drawing | null>(null);
  const [note, setNote] = useState('Loading the reference picture…');
  const [error, setError] = useState('');
  const [saved, setSaved] = useState('');
  const [resettable, setResettable] = useState(false);
  const [loaded, setLoaded] = useState(false);
  const [saving, setSaving] = useState(false);
  const targetId = t?.id ?? null;

  useEffect(() => {
    if (!targetId) return;
    void (async () => {
      try {
        const { target: tr } = await gql(TargetRegions, { id: targetId });
        if (!tr) throw new Error('the target is gone');
        const training = tr.reference.edges[0]?.node.images[0] ?? null;
        let list = tr.regions;
        let url = training?.url ?? null;
        let inherited = false;
        if (model) {
          const m = (await gql(ModelRegions, { id: model.id })).model;
          if (!m) throw new Error('the model is gone');
          list = m.regions;
          inherited = m.regionsInherited;
          // The model's representative picture (its mean OK picture), else a training picture.
          url = m.imageUrl ?? url;
        }
        setRegions(list.map(copyRegion));
        setResettable(!!model && !inherited);
        let text =
          (model
            ? inherited
              ? `Judges with the target's regions (${count(list.length, 'region')}); saving gives this model its own.`
              : OWN
            : 'Every model of this target judges with these, unless it has its own.') +
          ' No regions: the whole picture is judged. Coordinates are fractions of the picture, so any picture size fits.';
        if (!url) text += ' No reference picture yet: add a training picture to draw on it.';
        setNote(text);
        if (url) {
          const img = await loadImage(url).catch(() => null);
          setImage(img);
          if (!img) setError('The reference picture did not load; reopen Regions… to try again.');
        }
        setLoaded(true);
      } catch (err) {
        setNote('');
        setError(`Cannot load the regions: ${messageOf(err)}`);
      }
    })();
  }, [targetId, model?.id]);

  useEffect(() => {
    if (canvas.current) drawRegions(canvas.current, image, regions, drawing);
  }, [image, regions, drawing]);

  const startDrawing = (mode: Drawing['mode']) => {
    setDrawing({ mode, points: [] });
    setSaved('');
  };
  const finishDrawing = () => {
    if (!drawing || drawing.points.length < 3) return;
    setRegions([...regions, { mode: drawing.mode, sensitivity: 1, label: null, points: drawing.points, error: '' }]);
    setDrawing(null);
  };

  /** A refusal names the region (`regions[1].sensitivity: …`): shown under that region, the rest above Save. */
  function showErrors(err: unknown) {
    const general: string[] = [];
    const next = regions.map((r) => ({ ...r, error: '' }));
    for (const e of err instanceof GraphQLFailure ? err.errors : [{ message: messageOf(err), extensions: undefined }]) {
      const m = /^regions\[(\d+)\]\.?(.*)$/.exec(e.message);
      const index = Number.isInteger(e.extensions?.index) ? (e.extensions!.index as number) : m ? Number(m[1]) : -1;
      const region = next[index];
      if (region) region.error = m ? m[2]! : e.message;
      else general.push(e.message);
    }
    const flagged = next.map((r, i) => (r.error ? i + 1 : 0)).filter(Boolean);
    setRegions(next);
    setError(['Not saved.', flagged.length ? `See region ${flagged.join(', ')}.` : '', ...general].filter(Boolean).join(' '));
  }

  async function save() {
    setError('');
    setSaved('');
    const cleared = regions.map((r) => ({ ...r, error: '' }));
    setRegions(cleared);
    const input = cleared.map((r) => ({
      mode: r.mode,
      points: r.points,
      ...(r.mode === 'INCLUDE' ? { sensitivity: r.sensitivity } : {}),
      ...(r.label ? { label: r.label } : {}),
    }));
    setSaving(true);
    try {
      const owner = model ? { modelId: model.id } : { targetId };
      const { setRegions: done } = await gql(SetRegions, { ...owner, regions: input });
      setRegions(done.regions.map(copyRegion));
      setResettable(!!model);
      setSaved(`Saved: ${count(done.regions.length, 'region')}; predictions from now on use them.`);
      if (model) setNote(OWN);
    } catch (err) {
      showErrors(err);
    } finally {
      setSaving(false);
    }
  }

  async function reset() {
    if (!model || !confirm(`Drop the own regions of ${model.name}? It judges with the target's regions again.`)) return;
    try {
      const { resetModelRegions } = await gql(ResetModelRegions, { modelId: model.id });
      setRegions(resetModelRegions.regions.map(copyRegion));
      setResettable(false);
      setSaved(`Judges with the target's regions (${count(resetModelRegions.regions.length, 'region')}) again.`);
    } catch (err) {
      showErrors(err);
    }
  }

  const hint = drawing
    ? `Click the picture to place the corners of the ${drawing.mode.toLowerCase()} region (${count(drawing.points.length, 'point')}); finish with at least 3.`
    : regions.length
      ? 'Later regions in the list decide the sensitivity where include regions overlap; exclude always wins.'
      : 'No regions: the whole picture is judged. Add an include or exclude region.';
  return (
    <Dialog id="regions" title={model ? `Regions of ${model.name} v${model.version}` : `Regions of target ${t?.name ?? ''}`}>
      <p id="regions-note" class="muted small">
        {note}
      </p>
      <div class="regions-body">
        <div class="regions-pic">
          <canvas
            id="regions-canvas"
            ref={canvas}
            aria-label="Reference picture: click to add points"
            onClick={(e) => {
              const r = e.currentTarget.getBoundingClientRect();
              const at = (v: number) => Math.round(Math.max(0, Math.min(1, v)) * 10_000) / 10_000;
              const point = { x: at((e.clientX - r.left) / r.width), y: at((e.clientY - r.top) / r.height) };
              setDrawing((d) => (d ? { ...d, points: [...d.points, point] } : d));
            }}
            onDblClick={finishDrawing}
          ></canvas>
        </div>
        <div class="regions-side">
          <div class="row">
            <button id="regions-add-include" type="button" class="small" disabled={!!drawing || !image} onClick={() => startDrawing('INCLUDE')}>
              + Include
            </button>
            <button id="regions-add-exclude" type="button" class="small" disabled={!!drawing || !image} onClick={() => startDrawing('EXCLUDE')}>
              + Exclude
            </button>
            <button
              id="regions-finish"
              type="button"
              class="small primary"
              hidden={!drawing}
              disabled={!drawing || drawing.points.length < 3}
              onClick={finishDrawing}
            >
              Finish polygon
            </button>
            <button id="regions-cancel-draw" type="button" class="small" hidden={!drawing} onClick={() => setDrawing(null)}>
              Cancel
            </button>
          </div>
          <p id="regions-hint" class="muted small">
            {loaded ? hint : ''}
          </p>
          <ol id="regions-list" class="regions-list">
            {regions.map((r, i) => (
              <li key={i} class={`region r-${r.mode}`} data-index={String(i)}>
                <div class="row">
                  <span class="mode">{`${r.mode.toLowerCase()} · ${count(r.points.length, 'point')}`}</span>
                  {r.mode === 'INCLUDE' ? (
                    <label class="small muted">
                      sensitivity{' '}
                      <input
                        type="number"
                        class="sensitivity"
                        step="0.1"
                        value={String(r.sensitivity)}
                        title="0.1..10: 2 finds a defect half as strong; 0.5 needs one twice as strong"
                        onInput={(e) => {
                          const v = e.currentTarget.value;
                          r.sensitivity = v === '' ? NaN : Number(v);
                        }}
                      />
                    </label>
                  ) : null}
                  <button type="button" class="small delete" onClick={() => setRegions(regions.filter((_, k) => k !== i))}>
                    Delete
                  </button>
                </div>
                <div class="region-error">{r.error}</div>
              </li>
            ))}
          </ol>
        </div>
      </div>
      <p id="regions-error" class="error-text" role="alert">
        {error}
      </p>
      <div class="row">
        <button id="regions-save" type="button" class="primary" disabled={saving} onClick={save}>
          Save regions
        </button>
        <button id="regions-reset" type="button" hidden={!resettable} onClick={reset}>
          Use the target's regions
        </button>
        <span id="regions-saved" class="muted small">
          {saved}
        </span>
      </div>
    </Dialog>
  );
}
