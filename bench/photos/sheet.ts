/**
 * Contact sheets of the benchmark's pictures, to look at what the quality benchmark measures:
 * per category, some OK pictures and every NG picture with its defect's mask outlined in red.
 *
 *   node bench/photos/sheet.ts [--categories wood,pcb] [--ng 24] [--out bench/.cache/sheets]
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { type BenchPicture, buildSet } from './dataset.ts';
import { PHOTO_SOURCES } from './sources.ts';

const { values: args } = parseArgs({
  options: {
    categories: { type: 'string' },
    ng: { type: 'string', default: '24' },
    ok: { type: 'string', default: '4' },
    cell: { type: 'string', default: '256' },
    out: { type: 'string', default: join(import.meta.dirname, '..', '.cache', 'sheets') },
    seed: { type: 'string', default: '7' },
  },
});

async function tile(p: BenchPicture, cell: number): Promise<Buffer> {
  const scale = cell / Math.max(p.width, p.height);
  const w = Math.round(p.width * scale);
  const h = Math.round(p.height * scale);
  const base = await sharp(p.jpeg).resize(w, h).png().toBuffer();
  if (!p.defects.length) return base;
  // mask outline: mask pixels with a non-mask neighbour, drawn at picture scale
  const edge = Buffer.alloc(p.width * p.height * 4);
  for (let y = 1; y < p.height - 1; y++)
    for (let x = 1; x < p.width - 1; x++) {
      const i = y * p.width + x;
      if (p.mask[i] && (!p.mask[i - 1] || !p.mask[i + 1] || !p.mask[i - p.width] || !p.mask[i + p.width])) edge.set([255, 40, 40, 255], i * 4);
    }
  const outline = await sharp(edge, { raw: { width: p.width, height: p.height, channels: 4 } })
    .resize(w, h, { kernel: 'nearest' })
    .png()
    .toBuffer();
  const d = p.defects[0]!;
  const label = Buffer.from(
    `<svg width="${w}" height="14"><rect width="100%" height="14" fill="black" opacity="0.6"/><text x="2" y="11" font-size="10" fill="white">${d.kind} ${d.size} ${d.contrast} ${((100 * d.area) / (p.width * p.height)).toFixed(2)}%</text></svg>`,
  );
  return sharp(base)
    .composite([{ input: outline }, { input: label, top: 0, left: 0 }])
    .png()
    .toBuffer();
}

const cell = Number(args.cell);
mkdirSync(args.out, { recursive: true });
for (const category of args.categories?.split(',') ?? PHOTO_SOURCES.map((s) => s.category)) {
  const set = await buildSet(category, { trainOk: 0, testOk: Number(args.ok), testNg: Number(args.ng), seed: Number(args.seed) });
  const pics = [...set.testOk, ...set.testNg];
  const cols = 6;
  const rows = Math.ceil(pics.length / cols);
  const composites = await Promise.all(
    pics.map(async (p, i) => ({ input: await tile(p, cell), left: (i % cols) * (cell + 4), top: Math.floor(i / cols) * (cell + 4) })),
  );
  const file = join(args.out, `${category}.png`);
  await sharp({ create: { width: cols * (cell + 4), height: rows * (cell + 4), channels: 3, background: '#222' } })
    .composite(composites)
    .png()
    .toFile(file);
  console.log(file);
}
