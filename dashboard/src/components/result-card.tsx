import { useEffect, useRef, useState } from 'preact/hooks';
import { can } from '../client/session.ts';
import { draw, loadImage } from '../lib/draw.ts';
import { fmt, plural, time } from '../lib/format.ts';
import { notify } from '../state/notices.ts';
import { reviewInto } from '../state/review.ts';
import { panel, viewer, type ResultCard as Card } from '../state/store.ts';

/** One judged picture: thumbnail with its boxes (heatmap on hover), score against threshold, review. */
export function ResultCard({ card }: { card: Card }) {
  const a = card.result;
  const canvas = useRef<HTMLCanvasElement>(null);
  const [which, setWhich] = useState<'original' | 'heatmap'>('original');
  const [unavailable, setUnavailable] = useState(false);
  const [busy, setBusy] = useState(false);
  const original = a.item.images[0];
  const heatmap = a.images[0];

  useEffect(() => {
    const image = which === 'heatmap' && heatmap ? heatmap : original;
    if (!image || !canvas.current) return;
    const c = canvas.current;
    loadImage(image.url).then(
      (img) => draw(c, img, original ?? image, a.annotations, 240, 180),
      () => which === 'original' && setUnavailable(true),
    );
  }, [which, a.id]);

  async function review(e: Event, good: boolean) {
    e.stopPropagation();
    setBusy(true);
    try {
      await reviewInto(a, good);
    } catch (err) {
      notify(`Could not add ${a.item.name} to the training pictures`, err);
    } finally {
      setBusy(false);
    }
  }

  // The bar spans 0..2x the threshold, so the threshold mark is always in the middle: GOOD
  // scores fill less than half, BAD ones more (a full bar: twice the threshold or more).
  const top = Math.max(a.threshold, 1e-9) * 2;
  const fill = Math.max(0, Math.min(100, (a.score / top) * 100));
  return (
    // biome-ignore lint/a11y/useKeyWithClickEvents: the large view is a pointer shortcut (as before the port); the card's review buttons are the keyboard's
    <li
      class={`result r-${a.result}${card.fresh ? ' fresh' : ''}`}
      data-id={a.id}
      onMouseEnter={() => heatmap && setWhich('heatmap')}
      onMouseLeave={() => heatmap && setWhich('original')}
      onClick={() => (viewer.value = a)}
    >
      <div class="thumb">
        <canvas ref={canvas}></canvas>
        <span class={`badge ${a.result}`}>{a.result}</span>
        <span class="hint" hidden={!heatmap && !unavailable}>
          {unavailable ? 'picture unavailable' : 'heatmap'}
        </span>
      </div>
      <div class="meta">
        <div class="name" title={a.item.name}>
          {a.item.name}
        </div>
        <div class="scoreline">
          <span>
            score <b class="score">{fmt(a.score)}</b>
          </span>
          <span>
            threshold <b class="threshold">{fmt(a.threshold)}</b>
          </span>
        </div>
        <div class="scorebar">
          <i class="fill" style={{ width: `${fill}%` }}></i>
          <i class="thr" style={{ left: 'calc(50% - 1px)' }}></i>
        </div>
        <div class="foot">
          <span class="boxes">{plural(a.detectedObjects, 'box')}</span>
          <span class="time">{time(a.createdAt)}</span>
        </div>
        {/* Review: confirm or correct the verdict by making the picture a labelled training picture. */}
        <div class="review row" hidden={!can('TRAIN')}>
          {card.reviewed ? (
            <span class={`done ${card.reviewed.agrees ? 'tally-good' : 'tally-bad'}`}>{card.reviewed.text}</span>
          ) : (
            <>
              <span class="muted small">Train as</span>
              <button type="button" class="small ok" disabled={busy} onClick={(e) => review(e, true)}>
                OK
              </button>
              <button type="button" class="small ng" disabled={busy} onClick={(e) => review(e, false)}>
                NG
              </button>
              <button
                type="button"
                class="small boxes-btn"
                disabled={busy}
                title="Draw or fix the defect boxes, then add it to training"
                onClick={(e) => {
                  e.stopPropagation();
                  panel.value = { kind: 'review', result: a };
                }}
              >
                Boxes…
              </button>
            </>
          )}
        </div>
      </div>
    </li>
  );
}
