/**
 * Wraps a bare ONNX model that follows the input/output contract into an archive importModels
 * accepts (see docs/model-archive.md). Checks the model with onnxruntime first.
 *
 *   node scripts/wrap-onnx.ts model.onnx out.zip --width 256 --height 256 \
 *     --color rgb --threshold 0.5 [--name "My model"] [--version 1] [--algorithm "My algorithm"] \
 *     [--anomaly-range 0,1] [--ignore-outer 0] [--min-detected-area 0] [--image legend.png]
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import yazl from 'yazl';
import { ARCHIVE_FORMAT_VERSION, type ModelManifest } from '../src/runtime/onnx/contract.ts';
import { verifyOnnx } from '../src/runtime/models/archive.ts';
import { describeIssues, manifestSchema } from '../src/runtime/onnx/schemas.ts';

const argv = process.argv.slice(2);
const positional = argv.filter((a, i) => !a.startsWith('--') && !argv[i - 1]?.startsWith('--'));
const opt = (name: string, fallback?: string) => {
  const i = argv.indexOf(`--${name}`);
  const v = i >= 0 ? argv[i + 1] : undefined;
  if (v === undefined && fallback === undefined) {
    console.error(`missing --${name}`);
    process.exit(2);
  }
  return v ?? fallback!;
};

const [onnxPath, outPath] = positional;
if (!onnxPath || !outPath) {
  console.error('usage: wrap-onnx.ts <model.onnx> <out.zip> --width W --height H --color gray|rgb --threshold T [options]');
  process.exit(2);
}
const onnx = fs.readFileSync(onnxPath);
const image = argv.includes('--image') ? fs.readFileSync(opt('image')) : null;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const [lo, hi] = opt('anomaly-range', '0,1').split(',').map(Number) as [number, number];

const manifest: ModelManifest = {
  formatVersion: ARCHIVE_FORMAT_VERSION,
  name: opt('name', path.basename(onnxPath, '.onnx')),
  version: opt('version', '1'),
  algorithm: { name: opt('algorithm', 'External ONNX'), version: opt('algorithm-version', ''), parameters: {} },
  input: {
    width: Number(opt('width')),
    height: Number(opt('height')),
    color: opt('color') as 'gray' | 'rgb',
    resize: 'fill',
    anomalyRange: [lo, hi],
  },
  predictParameters: {
    threshold: Number(opt('threshold')),
    ignoreOuter: Number(opt('ignore-outer', '0')),
    minDetectedArea: Number(opt('min-detected-area', '0')),
  },
  stats: null,
  okImageCount: 0,
  ngImageCount: 0,
  trainingTime: null,
  createdAt: new Date().toISOString(),
  checksums: { 'model.onnx': sha(onnx), ...(image ? { 'image.png': sha(image) } : {}) },
};

const parsed = manifestSchema.safeParse(manifest);
if (!parsed.success) {
  console.error(`invalid options: ${describeIssues(parsed.error)}`);
  process.exit(1);
}
try {
  await verifyOnnx(onnx, manifest.input, 'cpu', path.basename(onnxPath));
} catch (err) {
  console.error((err as Error).message);
  process.exit(1);
}

const folder = manifest.name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '') || 'model';
const zip = new yazl.ZipFile();
zip.addBuffer(Buffer.from(JSON.stringify(manifest, null, 2)), `${folder}/manifest.json`);
zip.addBuffer(onnx, `${folder}/model.onnx`, { compress: false });
if (image) zip.addBuffer(image, `${folder}/image.png`, { compress: false });
zip.end();
await new Promise<void>((resolve, reject) => zip.outputStream.pipe(fs.createWriteStream(outPath)).on('close', resolve).on('error', reject));
console.log(`wrote ${outPath} (${folder}/manifest.json, ${folder}/model.onnx${image ? `, ${folder}/image.png` : ''})`);
