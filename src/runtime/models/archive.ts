import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import ort from 'onnxruntime-node';
import sharp from 'sharp';
import yauzl from 'yauzl';
import yazl from 'yazl';
import { badInput } from '../../errors.ts';
import { validateRegions } from '../images/regions.ts';
import { effectiveRegions } from '../store/lookup.ts';
import type { Store } from '../store/store.ts';
import type { AlgorithmRecord, ModelRecord } from '../store/types.ts';
import { ARCHIVE_FORMAT_VERSION, OnnxIO, type InputSpec, type ModelManifest } from '../onnx/contract.ts';
import { describeIssues, manifestSchema, parseInputSpec } from '../onnx/schemas.ts';
import { checkContract, createSession, type Provider } from '../onnx/session.ts';

export const MANIFEST = 'manifest.json';
export const MODEL_FILE = 'model.onnx';
export const IMAGE_FILE = 'image.png';
const KNOWN_FILES = new Set([MANIFEST, MODEL_FILE, IMAGE_FILE]);

export interface ArchiveLimits {
  /** The whole archive as uploaded. */
  maxArchiveBytes: number;
  /** Uncompressed size of one model.onnx. */
  maxModelBytes: number;
  /** Uncompressed size of a manifest.json or image.png. */
  maxSmallFileBytes: number;
  /** Uncompressed size of everything together (zip bombs). */
  maxTotalBytes: number;
  maxEntries: number;
}

export const defaultArchiveLimits: ArchiveLimits = {
  maxArchiveBytes: 1024 * 1024 * 1024,
  maxModelBytes: 1024 * 1024 * 1024,
  maxSmallFileBytes: 16 * 1024 * 1024,
  maxTotalBytes: 2 * 1024 * 1024 * 1024,
  maxEntries: 300,
};

const FOLDER = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/**
 * Writes the zip of `models` (per model `<id>/manifest.json`, `<id>/model.onnx` and, when the
 * model has one, `<id>/image.png`) to a temp file and moves it into the blob store.
 * Blob keys are sha256 of the content, so they are the manifest's checksums as they stand.
 */
export async function writeModelArchive(
  store: Store,
  tmpDir: string,
  models: readonly ModelRecord[],
  algorithms: ReadonlyMap<string, AlgorithmRecord>,
): Promise<{ key: string; size: number }> {
  const zip = new yazl.ZipFile();
  const regionSets = await store.regionSetsByOwners([...new Set(models.flatMap((m) => [m.id, m.targetId]))]);
  for (const m of models) {
    const spec = parseInputSpec(m.inputSpec);
    if (!m.onnxBlob || !spec || m.status !== 'READY') {
      throw badInput(`model "${m.id}" is ${m.status} and has no trained ONNX graph to export`, { id: m.id });
    }
    const algorithm = algorithms.get(m.algorithmId);
    const checksums: Record<string, string> = { [MODEL_FILE]: m.onnxBlob };
    if (m.imageBlob) checksums[IMAGE_FILE] = m.imageBlob;
    const manifest: ModelManifest = {
      formatVersion: ARCHIVE_FORMAT_VERSION,
      name: m.name,
      version: m.version,
      algorithm: { name: algorithm?.name ?? m.algorithmId, version: algorithm?.version ?? '', parameters: m.params },
      input: spec,
      predictParameters: m.predictParameters,
      stats: m.stats,
      okImageCount: m.okImageCount,
      ngImageCount: m.ngImageCount,
      trainingTime: m.trainingTime,
      createdAt: m.createdAt,
      checksums,
    };
    // What it judges with travels along, so that it judges the same wherever it is imported.
    const regions = effectiveRegions(regionSets, m);
    if (regions.source === 'model' || regions.regions.length > 0) manifest.regions = regions.regions;
    zip.addBuffer(Buffer.from(JSON.stringify(manifest, null, 2)), `${m.id}/${MANIFEST}`);
    // Already-compressed float weights gain little from deflate; store them to save CPU. Each
    // blob is opened only when the zip reaches it.
    const add = (key: string, name: string) =>
      zip.addReadStreamLazy(name, { compress: false }, (cb) => store.blobs.stream(key).then((s) => cb(null, s), (err: Error) => cb(err, null as never)));
    add(m.onnxBlob, `${m.id}/${MODEL_FILE}`);
    if (m.imageBlob) add(m.imageBlob, `${m.id}/${IMAGE_FILE}`);
  }
  zip.end();
  fs.mkdirSync(tmpDir, { recursive: true });
  const tmp = path.join(tmpDir, `export-${randomUUID()}.zip`);
  try {
    await pipeline(zip.outputStream as Readable, fs.createWriteStream(tmp));
    const { key, size } = await store.blobs.putFile(tmp);
    return { key, size };
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

export interface ArchivedModel {
  folder: string;
  manifest: ModelManifest;
  onnx: Buffer;
  image: Buffer | null;
}

/**
 * Reads and checks an archive without touching the store: entries confined to
 * `<folder>/<known file>`, sizes bounded, every manifest valid, every checksum matching.
 * Throws BAD_USER_INPUT naming the entry and what is wrong.
 */
export async function readModelArchive(bytes: Buffer, limits: ArchiveLimits = defaultArchiveLimits): Promise<ArchivedModel[]> {
  if (bytes.byteLength > limits.maxArchiveBytes) {
    throw badInput(`the archive is ${bytes.byteLength} bytes; at most ${limits.maxArchiveBytes} are accepted`);
  }
  const files = await unzip(bytes, limits);
  const folders = new Map<string, Map<string, Buffer>>();
  for (const [name, data] of files) {
    const [folder, file] = name.split('/') as [string, string];
    let f = folders.get(folder);
    if (!f) folders.set(folder, (f = new Map()));
    f.set(file, data);
  }
  if (folders.size === 0) throw badInput(`the archive holds no model folders (expected <id>/${MANIFEST} and <id>/${MODEL_FILE})`);

  const out: ArchivedModel[] = [];
  for (const [folder, entries] of folders) {
    const rawManifest = entries.get(MANIFEST);
    if (!rawManifest) throw badInput(`model folder "${folder}" has no ${MANIFEST}`, { entry: `${folder}/` });
    let json: unknown;
    try {
      json = JSON.parse(rawManifest.toString('utf8'));
    } catch (err) {
      throw badInput(`${folder}/${MANIFEST} is not valid JSON: ${(err as Error).message}`, { entry: `${folder}/${MANIFEST}` });
    }
    const parsed = manifestSchema.safeParse(json);
    if (!parsed.success) {
      throw badInput(`${folder}/${MANIFEST} is invalid: ${describeIssues(parsed.error)}`, { entry: `${folder}/${MANIFEST}` });
    }
    const manifest = parsed.data as ModelManifest;
    if (manifest.regions) validateRegions(manifest.regions, `${folder}/${MANIFEST}: regions`);
    const onnx = entries.get(MODEL_FILE);
    if (!onnx) throw badInput(`model folder "${folder}" has no ${MODEL_FILE}`, { entry: `${folder}/` });
    for (const [file, data] of entries) {
      if (file === MANIFEST) continue;
      const expected = manifest.checksums[file];
      if (!expected) throw badInput(`${folder}/${MANIFEST} has no checksum for ${file}`, { entry: `${folder}/${file}` });
      const actual = sha256(data);
      if (actual !== expected) {
        throw badInput(`checksum mismatch for ${folder}/${file}: manifest says sha256 ${expected}, the file has ${actual}`, {
          entry: `${folder}/${file}`,
        });
      }
    }
    for (const file of Object.keys(manifest.checksums)) {
      if (!entries.has(file)) {
        throw badInput(`${folder}/${MANIFEST} lists a checksum for ${file}, which the archive does not contain`, {
          entry: `${folder}/${file}`,
        });
      }
    }
    out.push({ folder, manifest, onnx, image: entries.get(IMAGE_FILE) ?? null });
  }
  return out;
}

function unzip(bytes: Buffer, limits: ArchiveLimits): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(bytes, { lazyEntries: true, validateEntrySizes: true }, (err, zip) => {
      if (err || !zip) return reject(zipError(err));
      const files = new Map<string, Buffer>();
      let total = 0;
      let count = 0;
      let failed = false;
      const fail = (e: unknown) => {
        if (failed) return;
        failed = true;
        zip.close();
        reject(e);
      };
      zip.on('error', (e) => fail(zipError(e)));
      zip.on('end', () => {
        if (!failed) resolve(files);
      });
      zip.on('entry', (entry: yauzl.Entry) => {
        try {
          const name = entry.fileName;
          if (++count > limits.maxEntries) throw badInput(`the archive has more than ${limits.maxEntries} entries`);
          const parts = name.split('/');
          const isDir = name.endsWith('/');
          if (isDir) {
            // Folder entries are fine when they are one plain folder name.
            if (parts.length !== 2 || !FOLDER.test(parts[0]!)) throw badInput(`archive entry "${name}" is not an allowed folder`, { entry: name });
            return zip.readEntry();
          }
          if (parts.length !== 2 || !FOLDER.test(parts[0]!) || !KNOWN_FILES.has(parts[1]!)) {
            throw badInput(
              `archive entry "${name}" is not allowed: entries must be <folder>/${MANIFEST}, <folder>/${MODEL_FILE} or <folder>/${IMAGE_FILE}`,
              { entry: name },
            );
          }
          if (entry.isEncrypted()) throw badInput(`archive entry "${name}" is encrypted`, { entry: name });
          const max = parts[1] === MODEL_FILE ? limits.maxModelBytes : limits.maxSmallFileBytes;
          if (entry.uncompressedSize > max) {
            throw badInput(`archive entry "${name}" is ${entry.uncompressedSize} bytes; at most ${max} are accepted`, { entry: name });
          }
          total += entry.uncompressedSize;
          if (total > limits.maxTotalBytes) throw badInput(`the archive unpacks to more than ${limits.maxTotalBytes} bytes`);
          if (files.has(name)) throw badInput(`archive entry "${name}" appears twice`, { entry: name });
          zip.openReadStream(entry, (e, stream) => {
            if (e || !stream) return fail(zipError(e, name));
            const chunks: Buffer[] = [];
            let size = 0;
            stream.on('data', (c: Buffer) => {
              size += c.byteLength;
              // validateEntrySizes catches lying headers too; this stops reading early.
              if (size > max) stream.destroy(badInput(`archive entry "${name}" is larger than ${max} bytes`, { entry: name }));
              else chunks.push(c);
            });
            stream.on('error', (se) => fail(se instanceof Error && 'code' in se && (se as { code?: unknown }).code === 'BAD_USER_INPUT' ? se : zipError(se, name)));
            stream.on('end', () => {
              files.set(name, Buffer.concat(chunks));
              zip.readEntry();
            });
          });
        } catch (e) {
          fail(e);
        }
      });
      zip.readEntry();
    });
  });
}

function zipError(err: unknown, entry?: string) {
  const msg = err instanceof Error ? err.message : String(err);
  if (/absolute path|invalid relative path|invalid characters in fileName/.test(msg)) {
    const name = msg.slice(msg.indexOf(':') + 1).trim();
    return badInput(`archive entry "${name}" points outside its folder (${msg.split(':')[0]}); refused`, { entry: name });
  }
  return badInput(`the file is not a readable zip archive${entry ? ` (entry "${entry}")` : ''}: ${msg}`, entry ? { entry } : {});
}

/**
 * Loads the ONNX bytes in onnxruntime, checks names, types and ranks against the contract and the
 * manifest's input, then runs one blank picture and checks what comes back.
 */
export async function verifyOnnx(bytes: Uint8Array, spec: InputSpec, provider: Provider, label: string): Promise<void> {
  let session: ort.InferenceSession;
  try {
    session = await createSession(bytes, provider);
  } catch (err) {
    throw badInput(`${label}: onnxruntime cannot load the model: ${(err as Error).message.split('\n')[0]}`);
  }
  try {
    try {
      checkContract(session, spec);
    } catch (err) {
      throw badInput(`${label}: ${(err as Error).message}`);
    }
    const c = spec.color === 'rgb' ? 3 : 1;
    let out: ort.InferenceSession.ReturnType;
    try {
      out = await session.run({
        [OnnxIO.input]: new ort.Tensor('float32', new Float32Array(c * spec.height * spec.width), [1, c, spec.height, spec.width]),
      });
    } catch (err) {
      throw badInput(`${label}: the model fails on a ${spec.width}x${spec.height} ${spec.color} picture: ${(err as Error).message.split('\n')[0]}`);
    }
    const map = out[OnnxIO.anomalyMap]!;
    const score = out[OnnxIO.score]!;
    if (Number(map.dims[0]) !== 1 || Number(map.dims[1]) !== 1 || Number(map.dims[2]) < 1 || Number(map.dims[3]) < 1) {
      throw badInput(`${label}: output "${OnnxIO.anomalyMap}" must be [N, 1, h, w], it came back as [${map.dims.join(', ')}]`);
    }
    if (score.dims.length !== 1 || Number(score.dims[0]) !== 1) {
      throw badInput(`${label}: output "${OnnxIO.score}" must be [N], it came back as [${score.dims.join(', ')}]`);
    }
  } finally {
    await session.release().catch(() => {});
  }
}

export interface ImportDeps {
  store: Store;
  provider: Provider;
  limits?: ArchiveLimits;
}

/**
 * All or nothing: the whole archive is read and every model verified before anything is written;
 * should a write fail half-way, the models already created are deleted again.
 * An algorithm is matched by name (else by id); unknown ones land on the catalogue entry
 * `external-onnx` ("Imported ONNX model"), created on first use.
 */
export async function importModelArchive(deps: ImportDeps, bytes: Buffer, targetId: string): Promise<ModelRecord[]> {
  const { store } = deps;
  const archived = await readModelArchive(bytes, deps.limits);
  for (const a of archived) {
    await verifyOnnx(a.onnx, a.manifest.input, deps.provider, `${a.folder}/${MODEL_FILE}`);
    if (a.image) {
      await sharp(a.image)
        .metadata()
        .catch(() => {
          throw badInput(`${a.folder}/${IMAGE_FILE} is not a readable picture`, { entry: `${a.folder}/${IMAGE_FILE}` });
        });
    }
  }

  const algorithms = await store.listAlgorithms();
  const algorithmOf = async (name: string) => {
    const lower = name.toLowerCase();
    const found = algorithms.find((x) => x.name.toLowerCase() === lower) ?? algorithms.find((x) => x.id === name);
    if (found) return found.id;
    await ensureExternalAlgorithm(store);
    return EXTERNAL_ALGORITHM_ID;
  };

  const created: ModelRecord[] = [];
  // Blobs written and held but not yet named by a model row (the row's write releases the hold).
  let held: string[] = [];
  try {
    for (const a of archived) {
      const m = a.manifest;
      const onnxBlob = await store.blobs.put(a.onnx, { hold: true });
      held.push(onnxBlob);
      const imageBlob = a.image ? await store.blobs.put(a.image, { hold: true }) : null;
      if (imageBlob) held.push(imageBlob);
      const model = await store.createModel({
        name: m.name,
        version: m.version,
        algorithmId: await algorithmOf(m.algorithm.name),
        targetId,
        status: 'READY',
        params: m.algorithm.parameters,
        predictParameters: m.predictParameters,
        trainItemIds: [],
        okImageCount: m.okImageCount,
        ngImageCount: m.ngImageCount,
      });
      created.push(model);
      const updated = await store.updateModel(model.id, {
        onnxBlob,
        imageBlob,
        inputSpec: { ...m.input },
        stats: (m.stats ?? null) as ModelRecord['stats'],
        trainingTime: m.trainingTime,
        progress: 1,
        stage: null,
        statusText: `imported from ${m.algorithm.name} ${m.algorithm.version}`.trim(),
      });
      created[created.length - 1] = updated;
      if (m.regions) await store.setRegions({ kind: 'model', id: model.id }, validateRegions(m.regions));
      held = [];
    }
  } catch (err) {
    store.blobs.release(held);
    await store.deleteModels(created.map((c) => c.id)).catch(() => {});
    await store.blobs.deleteUnreferenced(held).catch(() => {});
    throw err;
  }
  return created;
}

export const EXTERNAL_ALGORITHM_ID = 'external-onnx';

async function ensureExternalAlgorithm(store: Store): Promise<void> {
  const [existing] = await store.algorithmsByIds([EXTERNAL_ALGORITHM_ID]);
  if (existing) return;
  await store.syncAlgorithms([
    {
      id: EXTERNAL_ALGORITHM_ID,
      name: 'Imported ONNX model',
      version: String(ARCHIVE_FORMAT_VERSION),
      type: 'external',
      attribute: 'imported',
      description:
        'A model trained elsewhere and imported as an archive (see docs/model-archive.md). It predicts like any other model; it cannot be trained here.',
      parameters: [],
    },
  ]);
}
