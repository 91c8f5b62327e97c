import { draw } from './draw.ts';

export interface EditRegion {
  mode: 'INCLUDE' | 'EXCLUDE';
  sensitivity: number;
  label: string | null;
  points: { x: number; y: number }[];
  error: string;
}
export interface Drawing {
  mode: 'INCLUDE' | 'EXCLUDE';
  points: { x: number; y: number }[];
}

const REGION_COLOURS = { INCLUDE: ['rgba(46,160,67,.25)', '#3fb950'], EXCLUDE: ['rgba(229,83,75,.35)', '#ff7b72'] } as const;

/** The reference picture with the regions (fractions of the picture) and the polygon being drawn. */
export function drawRegions(canvas: HTMLCanvasElement, img: HTMLImageElement | null, regions: EditRegion[], drawing: Drawing | null) {
  if (!img) {
    canvas.width = canvas.height = 0;
    return;
  }
  const box = canvas.parentElement;
  const maxW = Math.max(200, Math.min(560, box?.clientWidth || 560));
  draw(canvas, img, { width: img.naturalWidth, height: img.naturalHeight }, [], maxW, 420);
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const w = parseFloat(canvas.style.width);
  const h = parseFloat(canvas.style.height);
  const path = (points: { x: number; y: number }[]) => {
    ctx.beginPath();
    points.forEach((p, k) => (k ? ctx.lineTo(p.x * w, p.y * h) : ctx.moveTo(p.x * w, p.y * h)));
  };
  ctx.lineWidth = 2;
  regions.forEach((r, i) => {
    const [fill, stroke] = REGION_COLOURS[r.mode];
    path(r.points);
    ctx.closePath();
    ctx.fillStyle = fill;
    ctx.fill('evenodd');
    ctx.strokeStyle = r.error ? '#e3b341' : stroke;
    ctx.stroke();
    const c = r.points[0];
    if (!c) return;
    ctx.fillStyle = '#fff';
    ctx.font = '12px system-ui';
    ctx.fillText(`${i + 1}${r.mode === 'INCLUDE' && r.sensitivity !== 1 ? ` ×${r.sensitivity}` : ''}`, c.x * w + 4, c.y * h + 14);
  });
  if (drawing?.points.length) {
    path(drawing.points);
    ctx.strokeStyle = REGION_COLOURS[drawing.mode][1];
    ctx.setLineDash([5, 4]);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = REGION_COLOURS[drawing.mode][1];
    for (const p of drawing.points) ctx.fillRect(p.x * w - 3, p.y * h - 3, 6, 6);
  }
}
