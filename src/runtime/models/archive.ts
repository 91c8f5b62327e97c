import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import sharp from 'sharp';
import yauzl from 'yauzl';
import yazl from 'yazl';
import { badInput } from '../../errors.ts';
import { validateRegions } from '../images/regions.ts';
import { effectiveRegions } from '../store/lookup.ts';
import type { ModelPatch, NewModel, Store } from '../store/store.ts';
import type { AlgorithmRecord, ModelRecord } from '../store/types.ts';
import { ARCHIVE_FORMAT_VERSION, type ModelManifest } from '../onnx/contract.ts';
import { describeIssues, manifestSchema, parseInputSpec } from '../onnx/schemas.ts';
import type { Provider } from '../onnx/session.ts';
import { verifyOnnxIsolated, type VerifyBudget } from './verify-isolated.ts';

export const MANIFEST = 'manifest.json';
export const MODEL_FILE = 'model.onnx';
export const IMAGE_FILE = 'image.png';
const KNOWN_FILES = new Set([MANIFEST, MODEL_FILE, IMAGE_FILE]);

export interface ArchiveLimits {
  /** The whole archive as uploaded. */
  maxArchiveBytes: number;
  /** Uncompressed size of one model.onnx. */
  maxModelBytes: number;
  /** Uncompressed size of an image.png. */
  maxSmallFileBytes: number;
  /** Uncompressed size of a manifest.json. */
  maxManifestBytes: number;
  /** Model folders in one archive. */
  maxModels: number;
  /** Largest width x height a manifest may declare as the model's input (MODEL_MAX_INPUT_PIXELS). */
  maxInputPixels: number;
  /** Uncompressed size of everything together (zip bombs). */
  maxTotalBytes: number;
  maxEntries: number;
}

/** Tight by default (docs/security.md); IMPORT_MAX_* settings widen them. */
export const defaultArchiveLimits: ArchiveLimits = {
  maxArchiveBytes: 512 * 1024 * 1024,
  maxModelBytes: 256 * 1024 * 1024,
  maxSmallFileBytes: 16 * 1024 * 1024,
  maxManifestBytes: 1024 * 1024,
  maxTotalBytes: 1024 * 1024 * 1024,
  maxEntries: 300,
  maxModels: 100,
  maxInputPixels: 2048 * 2048,
};

const FOLDER = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

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
      zip.addReadStreamLazy(name, { compress: false }, (cb) =>
        store.blobs.stream(key).then(
          (s) => cb(null, s),
          (err: Error) => cb(err, null as never),
        ),
      );
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

/** One model of an archive, its files unpacked on disk (never whole in memory). */
export interface UnpackedModel {
  folder: string;
  manifest: ModelManifest;
  onnx: UnpackedFile;
  image: UnpackedFile | null;
}

interface UnpackedFile {
  path: string;
  size: number;
  sha256: string;
}

/**
 * Reads and checks an archive in memory (tools and tests; imports use unpackModelArchive, which
 * keeps the files on disk): entries confined to `<folder>/<known file>`, sizes bounded, every
 * manifest valid, every checksum matching. Throws BAD_USER_INPUT naming the entry and what is wrong.
 */
export async function readModelArchive(bytes: Buffer, limits: ArchiveLimits = defaultArchiveLimits): Promise<ArchivedModel[]> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'spectro-archive-'));
  try {
    const zipPath = path.join(work, 'archive.zip');
    fs.writeFileSync(zipPath, bytes);
    const models = await unpackModelArchive(zipPath, path.join(work, 'files'), limits);
    return models.map((m) => ({
      folder: m.folder,
      manifest: m.manifest,
      onnx: fs.readFileSync(m.onnx.path),
      image: m.image ? fs.readFileSync(m.image.path) : null,
    }));
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Unpacks the archive at `zipPath` into `outDir`, each entry streamed to its own file and hashed
 * on the way (an archive bomb stops at the first byte past its limit, and nothing is held in
 * memory), then checks it as readModelArchive says. The caller removes `outDir`.
 */
export async function unpackModelArchive(zipPath: string, outDir: string, limits: ArchiveLimits = defaultArchiveLimits): Promise<UnpackedModel[]> {
  const size = fs.statSync(zipPath).size;
  if (size > limits.maxArchiveBytes) {
    throw badInput(`the archive is ${size} bytes; at most ${limits.maxArchiveBytes} are accepted`);
  }
  const files = await unzip(zipPath, outDir, limits);
  const folders = new Map<string, Map<string, UnpackedFile>>();
  for (const [name, file] of files) {
    const [folder, base] = name.split('/') as [string, string];
    let f = folders.get(folder);
    if (!f) folders.set(folder, (f = new Map()));
    f.set(base, file);
  }
  if (folders.size === 0) throw badInput(`the archive holds no model folders (expected <id>/${MANIFEST} and <id>/${MODEL_FILE})`);
  if (folders.size > limits.maxModels) throw badInput(`the archive holds ${folders.size} models; at most ${limits.maxModels} are accepted at once`);

  const out: UnpackedModel[] = [];
  for (const [folder, entries] of folders) {
    const rawManifest = entries.get(MANIFEST);
    if (!rawManifest) throw badInput(`model folder "${folder}" has no ${MANIFEST}`, { entry: `${folder}/` });
    let json: unknown;
    try {
      json = JSON.parse(fs.readFileSync(rawManifest.path, 'utf8'));
    } catch (err) {
      throw badInput(`${folder}/${MANIFEST} is not valid JSON: ${(err as Error).message}`, { entry: `${folder}/${MANIFEST}` });
    }
    const parsed = manifestSchema.safeParse(json);
    if (!parsed.success) {
      throw badInput(`${folder}/${MANIFEST} is invalid: ${describeIssues(parsed.error)}`, { entry: `${folder}/${MANIFEST}` });
    }
    const manifest = parsed.data as ModelManifest;
    const pixels = manifest.input.width * manifest.input.height;
    if (pixels > limits.maxInputPixels) {
      throw badInput(
        `${folder}/${MANIFEST} declares a ${manifest.input.width}x${manifest.input.height} input; at most ${limits.maxInputPixels} pixels are accepted (MODEL_MAX_INPUT_PIXELS)`,
        { entry: `${folder}/${MANIFEST}` },
      );
    }
    if (manifest.regions) validateRegions(manifest.regions, `${folder}/${MANIFEST}: regions`);
    const onnx = entries.get(MODEL_FILE);
    if (!onnx) throw badInput(`model folder "${folder}" has no ${MODEL_FILE}`, { entry: `${folder}/` });
    for (const [file, data] of entries) {
      if (file === MANIFEST) continue;
      const expected = manifest.checksums[file];
      if (!expected) throw badInput(`${folder}/${MANIFEST} has no checksum for ${file}`, { entry: `${folder}/${file}` });
      if (data.sha256 !== expected) {
        throw badInput(`checksum mismatch for ${folder}/${file}: manifest says sha256 ${expected}, the file has ${data.sha256}`, {
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

function unzip(zipPath: string, outDir: string, limits: ArchiveLimits): Promise<Map<string, UnpackedFile>> {
  return new Promise((resolve, reject) => {
    yauzl.open(zipPath, { lazyEntries: true, validateEntrySizes: true, autoClose: true }, (err, zip) => {
      if (err || !zip) return reject(zipError(err));
      const files = new Map<string, UnpackedFile>();
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
            throw badInput(`archive entry "${name}" is not allowed: entries must be <folder>/${MANIFEST}, <folder>/${MODEL_FILE} or <folder>/${IMAGE_FILE}`, {
              entry: name,
            });
          }
          if (entry.isEncrypted()) throw badInput(`archive entry "${name}" is encrypted`, { entry: name });
          const max = parts[1] === MODEL_FILE ? limits.maxModelBytes : parts[1] === MANIFEST ? limits.maxManifestBytes : limits.maxSmallFileBytes;
          if (entry.uncompressedSize > max) {
            throw badInput(`archive entry "${name}" is ${entry.uncompressedSize} bytes; at most ${max} are accepted`, { entry: name });
          }
          total += entry.uncompressedSize;
          if (total > limits.maxTotalBytes) throw badInput(`the archive unpacks to more than ${limits.maxTotalBytes} bytes`);
          if (files.has(name)) throw badInput(`archive entry "${name}" appears twice`, { entry: name });
          zip.openReadStream(entry, (e, stream) => {
            if (e || !stream) return fail(zipError(e, name));
            // FOLDER and KNOWN_FILES admit no separators or dots-only names: the path stays in outDir.
            const dir = path.join(outDir, parts[0]!);
            fs.mkdirSync(dir, { recursive: true });
            const target = path.join(dir, parts[1]!);
            const hash = createHash('sha256');
            let size = 0;
            const out = fs.createWriteStream(target);
            const onError = (se: unknown) => {
              out.destroy();
              fail(se instanceof Error && 'code' in se && (se as { code?: unknown }).code === 'BAD_USER_INPUT' ? se : zipError(se, name));
            };
            stream.on('data', (c: Buffer) => {
              size += c.byteLength;
              // validateEntrySizes catches lying headers too; this stops reading at the first byte past the limit.
              if (size > max) stream.destroy(badInput(`archive entry "${name}" is larger than ${max} bytes`, { entry: name }));
              else hash.update(c);
            });
            stream.on('error', onError);
            out.on('error', onError);
            stream.pipe(out);
            out.on('finish', () => {
              if (failed) return;
              files.set(name, { path: target, size, sha256: hash.digest('hex') });
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

export { verifyOnnx } from './verify-onnx.ts';

export interface ImportDeps {
  store: Store;
  provider: Provider;
  limits?: ArchiveLimits;
  /** Each model's check runs in a process of its own within this budget (verify-isolated.ts). */
  verify?: VerifyBudget;
}

export const defaultVerifyBudget: VerifyBudget = { timeoutMs: 20_000, memoryMb: 1024 };

/**
 * All or nothing: the archive is unpacked to disk and every model verified (each in a process of
 * its own, within its time and memory budget) before anything is written; then every model row is
 * written in one transaction, so a failure, or a process killed half-way, leaves none behind.
 * `source`: the archive's bytes or the path of the archive file.
 * An algorithm is matched by name (else by id); unknown ones land on the catalogue entry
 * `external-onnx` ("Imported ONNX model"), created on first use.
 */
export async function importModelArchive(deps: ImportDeps, source: Buffer | string, targetId: string): Promise<ModelRecord[]> {
  const { store } = deps;
  const work = path.join(store.blobs.tmpDir, `import-${randomUUID()}`);
  fs.mkdirSync(work, { recursive: true });
  // Blobs written and held but not yet named by a model row (the rows' write releases the holds).
  const held: string[] = [];
  try {
    let zipPath = source as string;
    if (typeof source !== 'string') {
      zipPath = path.join(work, 'archive.zip');
      fs.writeFileSync(zipPath, source);
    }
    const archived = await unpackModelArchive(zipPath, path.join(work, 'files'), deps.limits);
    for (const a of archived) {
      await verifyOnnxIsolated(a.onnx.path, a.manifest.input, deps.provider, `${a.folder}/${MODEL_FILE}`, deps.verify ?? defaultVerifyBudget);
      if (a.image) {
        await sharp(a.image.path, { limitInputPixels: 40_000_000 })
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

    const rows: { model: NewModel; patch: ModelPatch; regions: ReturnType<typeof validateRegions> | null }[] = [];
    for (const a of archived) {
      const m = a.manifest;
      const onnxBlob = (await store.blobs.putFile(a.onnx.path, { hold: true })).key;
      held.push(onnxBlob);
      const imageBlob = a.image ? (await store.blobs.putFile(a.image.path, { hold: true })).key : null;
      if (imageBlob) held.push(imageBlob);
      rows.push({
        model: {
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
        },
        patch: {
          onnxBlob,
          imageBlob,
          inputSpec: { ...m.input },
          stats: (m.stats ?? null) as ModelRecord['stats'],
          trainingTime: m.trainingTime,
          progress: 1,
          stage: null,
          statusText: `imported from ${m.algorithm.name} ${m.algorithm.version}`.trim(),
        },
        regions: m.regions ? validateRegions(m.regions) : null,
      });
    }
    const created = await store.createModels(rows);
    held.length = 0;
    return created;
  } catch (err) {
    if (held.length > 0) {
      store.blobs.release(held);
      await store.blobs.deleteUnreferenced(held).catch(() => {});
    }
    throw err;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
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
