import { useEffect, useRef, useState } from 'preact/hooks';
import { messageOf } from '../client/failure.ts';
import { draw, loadImage } from '../lib/draw.ts';
import { notify } from '../state/notices.ts';
import { reviewInto, type DrawnBox } from '../state/review.ts';
import { panel } from '../state/store.ts';
import type { Result } from '../state/types.ts';
import { Dialog } from './dialog.tsx';

/** Boxes smaller than this (pixels of the original) are a click, not a box. */
const MIN_BOX_PX = 3;
/** How near a corner (CSS pixels) a drag takes hold of it, to resize its box. */
const HANDLE_CSS_PX = 8;

/** A drag: from the fixed corner (x0, y0) to the pointer; `replaces` a box being resized. */
interface Drag {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  replaces: number | null;
}
const rectOf = (d: Drag): DrawnBox => ({ xMin: Math.min(d.x0, d.x1), xMax: Math.max(d.x0, d.x1), yMin: Math.min(d.y0, d.y1), yMax: Math.max(d.y0, d.y1) });

const fromPrediction = (a: Result): DrawnBox[] =>
  a.annotations.flatMap((b) =>
    b.xMin == null || b.xMax == null || b.yMin == null || b.yMax == null ? [] : [{ xMin: b.xMin, xMax: b.xMax, yMin: b.yMin, yMax: b.yMax }],
  );

/**
 * Review with boxes: the model's boxes on the picture, to keep or delete; a drag on the picture
 * adds one. Saved as a training picture (OK or NG) whose annotations are these boxes.
 */
export function ReviewPanel({ result: a }: { result: Result }) {
  const original = a.item.images[0];
  const canvas = useRef<HTMLCanvasElement>(null);
  const [image, setImage] = useState<HTMLImageElement | null>(null);
  const [boxes, setBoxes] = useState<DrawnBox[]>(() => fromPrediction(a));
  const [dragging, setDragging] = useState<Drag | null>(null);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const scale = useRef(1);
  const width = original?.width || image?.naturalWidth || 1;
  const height = original?.height || image?.naturalHeight || 1;

  useEffect(() => {
    if (!original) return setError('This result has no picture to draw on.');
    loadImage(original.url).then(setImage, () => setError('The picture did not load; reopen the review to try again.'));
  }, [a.id]);

  useEffect(() => {
    const c = canvas.current;
    if (!c || !image) return;
    const shown = dragging ? [...boxes.filter((_, i) => i !== dragging.replaces), rectOf(dragging)] : boxes;
    const maxW = Math.max(200, Math.min(640, c.parentElement?.clientWidth || 640));
    scale.current = draw(c, image, { width, height }, shown, maxW, 460);
    const ctx = c.getContext('2d');
    if (!ctx) return;
    ctx.fillStyle = '#fff';
    ctx.font = '12px system-ui';
    const k = scale.current;
    boxes.forEach((b, i) => {
      ctx.fillText(String(i + 1), b.xMin * k + 4, b.yMin * k + 14);
      // Corner handles: drag one to resize the box.
      for (const [x, y] of [
        [b.xMin, b.yMin],
        [b.xMax, b.yMin],
        [b.xMin, b.yMax],
        [b.xMax, b.yMax],
      ] as const)
        ctx.fillRect(x * k - 3, y * k - 3, 6, 6);
    });
  }, [image, boxes, dragging]);

  /** Where the pointer is, in pixels of the original picture (inside it). */
  const at = (e: PointerEvent) => {
    const r = (e.currentTarget as HTMLCanvasElement).getBoundingClientRect();
    const clamp = (v: number, max: number) => Math.round(Math.max(0, Math.min(1, v)) * max);
    return { x: clamp((e.clientX - r.left) / r.width, width), y: clamp((e.clientY - r.top) / r.height, height) };
  };

  async function save(good: boolean) {
    setBusy(true);
    setError('');
    try {
      await reviewInto(a, good, boxes);
      notify(`${a.item.name} added to training as ${good ? 'OK' : 'NG'} with ${boxes.length} box${boxes.length === 1 ? '' : 'es'}`);
      panel.value = null;
    } catch (err) {
      setError(`Not saved: ${messageOf(err)}`);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog id="review" title={`Review ${a.item.name} (judged ${a.result})`}>
      <p class="muted small">
        Drag on the picture to draw a box around each defect; drag a corner of a box to resize it; delete the boxes that are wrong. Then add the picture to
        training.
      </p>
      <div class="regions-body">
        <div class="regions-pic">
          <canvas
            id="review-canvas"
            ref={canvas}
            aria-label="Picture: drag to draw a box"
            onPointerDown={(e) => {
              e.currentTarget.setPointerCapture(e.pointerId);
              const p = at(e);
              // Near a corner of a box: resize it from the opposite corner; elsewhere a new box.
              const reach = HANDLE_CSS_PX / scale.current;
              for (const [i, b] of boxes.entries()) {
                const x = Math.abs(p.x - b.xMin) <= reach ? b.xMax : Math.abs(p.x - b.xMax) <= reach ? b.xMin : null;
                const y = Math.abs(p.y - b.yMin) <= reach ? b.yMax : Math.abs(p.y - b.yMax) <= reach ? b.yMin : null;
                if (x !== null && y !== null) return setDragging({ x0: x, y0: y, x1: p.x, y1: p.y, replaces: i });
              }
              setDragging({ x0: p.x, y0: p.y, x1: p.x, y1: p.y, replaces: null });
            }}
            onPointerMove={(e) => {
              if (!dragging) return;
              const p = at(e);
              setDragging((d) => (d ? { ...d, x1: p.x, y1: p.y } : d));
            }}
            onPointerUp={(e) => {
              if (!dragging) return;
              const p = at(e);
              const box = rectOf({ ...dragging, x1: p.x, y1: p.y });
              const { replaces } = dragging;
              setDragging(null);
              if (box.xMax - box.xMin < MIN_BOX_PX || box.yMax - box.yMin < MIN_BOX_PX) return;
              setBoxes((list) => (replaces === null ? [...list, box] : list.map((b, i) => (i === replaces ? box : b))));
            }}
            onPointerCancel={() => setDragging(null)}
          ></canvas>
        </div>
        <div class="regions-side">
          <ol id="review-boxes" class="regions-list">
            {boxes.map((b, i) => (
              <li key={i} class="review-box">
                <div class="row">
                  <span class="mode">{`${b.xMax - b.xMin} × ${b.yMax - b.yMin} px at ${b.xMin}, ${b.yMin}`}</span>
                  <button type="button" class="small delete" onClick={() => setBoxes(boxes.filter((_, k) => k !== i))}>
                    Delete
                  </button>
                </div>
              </li>
            ))}
          </ol>
          <p id="review-hint" class="muted small">
            {boxes.length ? `${boxes.length} box${boxes.length === 1 ? '' : 'es'}` : 'No boxes: the picture is added without them.'}
          </p>
        </div>
      </div>
      <p id="review-error" class="error-text" role="alert">
        {error}
      </p>
      <div class="row">
        <button id="review-ok" type="button" disabled={busy || !image} onClick={() => save(true)}>
          Add as OK
        </button>
        <button id="review-ng" type="button" class="primary" disabled={busy || !image} onClick={() => save(false)}>
          Add as NG with these boxes
        </button>
      </div>
    </Dialog>
  );
}
