import { useEffect, useRef } from 'preact/hooks';
import { draw, loadImage } from '../lib/draw.ts';
import { fmt, plural } from '../lib/format.ts';
import { viewer } from '../state/store.ts';

const close = () => {
  viewer.value = null;
};

/** A result large: the picture with its boxes beside the heatmap. */
export function ViewerPanel() {
  const a = viewer.value;
  const canvas = useRef<HTMLCanvasElement>(null);
  const closeButton = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (!a) return;
    closeButton.current?.focus();
    const original = a.item.images[0];
    const c = canvas.current;
    if (!original || !c) return;
    c.getContext('2d')?.clearRect(0, 0, c.width, c.height);
    loadImage(original.url).then(
      (img) => draw(c, img, original, a.annotations, 900, 900, false),
      () => undefined,
    );
  }, [a]);
  if (!a) return null;
  const heatmap = a.images[0];
  const extra = a.detectionAccuracy != null ? ` · confidence ${a.detectionAccuracy}%` : '';
  return (
    // biome-ignore lint/a11y/noStaticElementInteractions lint/a11y/useKeyWithClickEvents: a click beside the picture closes it; from the keyboard, Escape or ✕ do
    <div id="viewer" class="viewer" onClick={(e) => e.target === e.currentTarget && close()}>
      <div class="viewer-box" role="dialog" aria-modal="true" aria-labelledby="viewer-title">
        <header>
          <span id="viewer-badge" class={`badge ${a.result}`}>
            {a.result}
          </span>
          <strong id="viewer-title">{a.item.name}</strong>
          <span id="viewer-detail" class="muted small">
            {`score ${fmt(a.score)} vs threshold ${fmt(a.threshold)} · ${plural(a.detectedObjects, 'box')}${extra} · ${new Date(a.createdAt).toLocaleString()}`}
          </span>
          <span class="spacer"></span>
          <button id="viewer-close" ref={closeButton} type="button" class="ghost" aria-label="Close" onClick={close}>
            ✕
          </button>
        </header>
        <div class="viewer-body">
          <figure>
            <canvas id="viewer-canvas" ref={canvas}></canvas>
            <figcaption>Picture with the detected boxes</figcaption>
          </figure>
          <figure>
            <img id="viewer-heatmap" alt="Heatmap overlay" hidden={!heatmap} src={heatmap?.url} />
            <figcaption id="viewer-heatmap-caption">{heatmap ? 'Heatmap overlay' : 'No heatmap for this assessment'}</figcaption>
          </figure>
        </div>
      </div>
    </div>
  );
}
