/** Pictures (signed /files/ links) loaded once each, drawn into canvases with their boxes. */
const imageCache = new Map<string, Promise<HTMLImageElement>>();

export function loadImage(url: string): Promise<HTMLImageElement> {
  let p = imageCache.get(url);
  if (!p) {
    p = new Promise((resolve, reject) => {
      const img = new Image();
      img.decoding = 'async';
      img.onload = () => resolve(img);
      img.onerror = () => {
        imageCache.delete(url);
        reject(new Error('image did not load'));
      };
      img.src = url;
    });
    imageCache.set(url, p);
    if (imageCache.size > 400) imageCache.delete(imageCache.keys().next().value!);
  }
  return p;
}

export interface PixelBox {
  xMin?: number | null;
  xMax?: number | null;
  yMin?: number | null;
  yMax?: number | null;
}

/**
 * Draws the picture (or its heatmap) into the canvas at most `maxW` x `maxH` CSS pixels, with the
 * boxes (in pixels of the original). Sizes are set through CSSOM, which the CSP allows. Returns
 * the scale from original pixels to CSS pixels.
 */
export function draw(
  canvas: HTMLCanvasElement,
  img: HTMLImageElement,
  original: { width?: number | null; height?: number | null },
  boxes: readonly PixelBox[],
  maxW: number,
  maxH: number,
  cssSize = true,
): number {
  const w0 = original.width || img.naturalWidth;
  const h0 = original.height || img.naturalHeight;
  const scale = Math.min(maxW / w0, maxH / h0);
  const w = Math.max(1, Math.round(w0 * scale));
  const h = Math.max(1, Math.round(h0 * scale));
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.round(w * dpr);
  canvas.height = Math.round(h * dpr);
  if (cssSize) {
    canvas.style.width = `${w}px`;
    canvas.style.height = `${h}px`;
  }
  const ctx = canvas.getContext('2d');
  if (!ctx) return scale;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(img, 0, 0, w, h);
  ctx.lineWidth = cssSize ? 2 : 4;
  ctx.strokeStyle = '#ff3b30';
  ctx.shadowColor = 'rgba(0,0,0,.8)';
  ctx.shadowBlur = 2;
  for (const b of boxes) {
    if (b.xMin == null || b.yMin == null || b.xMax == null || b.yMax == null) continue;
    // Box edges in original pixels (max exclusive); keep the stroke inside the canvas.
    const x = Math.max(1, b.xMin * scale);
    const y = Math.max(1, b.yMin * scale);
    const bw = Math.min(w - 1, b.xMax * scale) - x;
    const bh = Math.min(h - 1, b.yMax * scale) - y;
    ctx.strokeRect(x, y, Math.max(2, bw), Math.max(2, bh));
  }
  ctx.shadowBlur = 0;
  return scale;
}
