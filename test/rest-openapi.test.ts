import fs from 'node:fs';
import path from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateImage, toPng } from '../bench/synthetic.ts';
import { Api } from '../clients/typescript/spectro-rest.js';
import { CLIENT_DIR, OPENAPI_FILE, generateRestClient, printedOpenApi } from '../scripts/print-schema.ts';
import { checkedFetch } from './openapi-validator.ts';
import { CLIENT_ID, CLIENT_SECRET, startRestServer, type RestServer } from './rest-helpers.ts';

// The OpenAPI document as the source of truth: it is a valid OpenAPI 3.1 document, it holds the
// original's operations and schemas, the committed copy and the typed client are what the gateway
// serves, and a client generated from it alone runs the whole flow, every answer checked against it.

let srv: RestServer;
let doc: any;

/** spectro-rest-v1's operations: operationId -> "METHOD path". */
const ORIGINAL_OPERATIONS: Record<string, string> = {
  getInspectionTargets: 'get /api/v1/targets/',
  getInspectionTargetById: 'get /api/v1/targets/{target_id}',
  setInspectionTargetById: 'post /api/v1/targets/{target_id}',
  getModelResults: 'post /api/v1/targets/model/results',
  getAlgorithms: 'get /api/v1/algorithms/',
  getAlgorithmById: 'get /api/v1/algorithms/{algorithm_id}',
  train: 'post /api/v1/algorithms/{algorithm_id}/train',
  getModels: 'get /api/v1/models/',
  deleteModels: 'delete /api/v1/models/',
  getModelById: 'get /api/v1/models/{model_id}',
  exportModelsWithId: 'post /api/v1/models/export',
  importModels: 'post /api/v1/models/import',
  predictItems: 'post /api/v1/models/{model_id}/predict',
  getItemsByType: 'get /api/v1/items/',
  addItem: 'post /api/v1/items/',
  getItemById: 'get /api/v1/items/{item_id}',
  annotate: 'patch /api/v1/items/{item_id}',
  setLicense: 'post /api/v1/utils/',
  getLogs: 'post /api/v1/utils/debug',
  getHashId: 'post /api/v1/utils/node_hash',
  login: 'post /api/auth/token',
};

/** The original's schemas with their required fields and the types of their integer ids. */
const ORIGINAL_SCHEMAS: Record<string, { required?: string[]; int32?: string[] }> = {
  BaseError: {},
  Error: { int32: ['status'] },
  KeyValueError: {},
  LoginParams: { required: ['client_id', 'client_secret', 'grant_type'] },
  LoginResponse: { required: ['access_token'] },
  Preprocessing: { required: ['name'] },
  InspectionTarget: { int32: ['target_id'] },
  AlgorithmParameter: { required: ['created_at', 'name', 'updated_at', 'algorithm_id'], int32: ['algorithm_parameter_id'] },
  AlgorithmWithParameter: { required: ['created_at', 'name', 'algorithm_id', 'file_name', 'class_name', 'updated_at'] },
  OverrideParam: { int32: ['algorithm_parameter_id'] },
  TrainRequest: {},
  HModel: {
    required: ['created_at', 'model_id', 'name', 'version', 'algorithm_id', 'algorithm_type', 'context_id', 'updated_at'],
    int32: ['context_id', 'ok_img_count', 'ng_img_count'],
  },
  HModelStats: {},
  HModelPrecision: {},
  ModelIdsQuery: {},
  ImportModels: {},
  Predict: {},
  PredictItemsResponse: {},
  Annotation: { required: ['created_at'], int32: ['annotation_id'] },
  ItemImageMeta: { int32: ['height', 'width', 'file_size'] },
  AssessmentItem: {},
  AssessmentItem1: {},
  Item: {},
  GetItemsResponse: { int32: ['current_page', 'end_page', 'count_per_page'] },
  AddItemRequest: { required: ['training'] },
  AddItemResponse: {},
  RequestAnnotation: {},
  AnnotateItemRequest: {},
  License: {},
  LicenseResponse: {},
  LicenseHashResponse: {},
};

beforeAll(async () => {
  srv = await startRestServer();
  doc = await (await fetch(`${srv.url}/api/v1/openapi.json`)).json();
});

afterAll(async () => {
  await srv?.stop();
});

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document, served without a token and equal to the committed openapi.json', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const result = await new Validator().validate(structuredClone(doc));
    expect(result).toEqual({ valid: true });
    expect(fs.readFileSync(OPENAPI_FILE, 'utf8')).toBe(printedOpenApi(doc));
  });

  it("has the original's operations at their paths, and marks every other one as an extension", () => {
    const found: Record<string, string> = {};
    const extensions: string[] = [];
    for (const [p, item] of Object.entries<any>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(item)) {
        found[op.operationId] = `${method} ${p}`;
        if (op['x-spectro-extension']) extensions.push(op.operationId);
      }
    }
    for (const [id, where] of Object.entries(ORIGINAL_OPERATIONS)) expect(found[id], id).toBe(where);
    expect(extensions.sort()).toEqual(
      Object.keys(found)
        .filter((id) => !(id in ORIGINAL_OPERATIONS))
        .sort(),
    );
    expect(extensions).toEqual(expect.arrayContaining(['activateModel', 'deleteItems', 'getOpenApiDocument']));
  });

  it("has the original's schemas with their required fields and int32 ids; added fields are marked", () => {
    const schemas = doc.components.schemas;
    for (const [name, { required = [], int32 = [] }] of Object.entries(ORIGINAL_SCHEMAS)) {
      const schema = schemas[name];
      expect(schema, name).toBeDefined();
      expect([...(schema.required ?? [])].sort(), name).toEqual([...required].sort());
      for (const field of int32) expect(schema.properties[field], `${name}.${field}`).toMatchObject({ type: 'integer', format: 'int32' });
    }
    expect(schemas.HModel.properties.training_time).toMatchObject({ type: ['integer', 'null'], format: 'int32' });
    expect(schemas.HModel.properties.progress['x-spectro-extension']).toBe(true);
    expect(schemas.Item.properties.status.type).toBe('string');
    expect(schemas.AssessmentItem.properties.result.enum).toEqual(['GOOD', 'BAD']);
  });
});

async function picture(seed: number, defect = false): Promise<File> {
  const img = generateImage('plate', { seed, size: 48, defect: defect ? { kind: 'spot', size: 'large', contrast: 'high' } : null });
  return new File([new Uint8Array(await toPng(img))], `plate-${seed}.png`, { type: 'image/png' });
}

/** Resolves once the model's training ends (the server's own progress events; no polling). */
async function trainingEnd(modelId: string): Promise<string> {
  const { pubsub, store } = srv.server.services;
  const sub = pubsub.subscribe('trainingProgress', modelId);
  try {
    await sub.ready;
    const [now] = await store.modelsByIds([modelId]);
    if (now && ['READY', 'FAILED', 'CANCELLED'].includes(now.status)) return now.status;
    for await (const ev of sub) if (['READY', 'FAILED', 'CANCELLED'].includes(ev.status)) return ev.status;
    throw new Error('subscription ended');
  } finally {
    await sub.return();
  }
}

describe('a client generated from the document alone', () => {
  it('runs the whole flow: token, targets, upload, train, predict in the background, results, CSV, export and import', async () => {
    const api = new Api<string>({
      baseUrl: srv.url,
      customFetch: checkedFetch(srv.checker),
      securityWorker: (token) => (token ? { headers: { authorization: `Bearer ${token}` } } : {}),
    });
    const login = await api.spectro.login({ grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: CLIENT_SECRET });
    api.setSecurityData(login.data.access_token);

    // Uploads go to the default target, created on the first upload.
    const ok = await Promise.all([1, 2, 3, 4, 5, 6].map((s) => picture(s)));
    const added = await api.items.addItem({ files: ok, training: true, good: true });
    expect(added.status).toBe(201);
    const trainingIds = added.data.data!.item_ids!;
    expect(trainingIds).toHaveLength(6);

    const targets = (await api.targets.getInspectionTargets()).data.data!;
    expect(targets).toEqual([expect.objectContaining({ name: 'default', target_id: expect.any(Number) })]);
    const target = (await api.targets.getInspectionTargetById(String(targets[0]!.target_id))).data.data!;
    expect((await api.targets.setInspectionTargetById(String(target.target_id))).data.data!.is_default).toBe(true);

    const algorithm = (await api.algorithms.getAlgorithmById('pattern-matching')).data.data!;
    expect((await api.algorithms.getAlgorithms()).data.data!.map((a) => a.algorithm_id)).toContain('pattern-matching');
    const size = algorithm.parameters!.find((p) => p.name === 'input_size')!;
    const queued = (
      await api.algorithms.train('pattern-matching', {
        name: 'typed-client',
        item_ids: trainingIds,
        override_params: [{ algorithm_parameter_id: size.algorithm_parameter_id, value: '48' }],
      })
    ).data.data!;
    expect(queued.context_id).toBe(target.target_id);
    expect(await trainingEnd(queued.model_id)).toBe('READY');
    const model = (await api.models.getModelById(queued.model_id)).data.data!;
    expect(model).toMatchObject({ status: 'READY', training_time: expect.any(Number), algorithm_type: expect.any(String) });
    expect((await api.models.getModels({ algorithm_id: 'pattern-matching' })).data.data!.map((m) => m.model_id)).toEqual([model.model_id]);
    expect((await api.models.activateModel(model.model_id)).data.data!.active).toBe(true);

    // Regions of interest (an extension): the target's, a model's own over them, and back.
    const square: [number, number][] = [
      [0.1, 0.1],
      [0.9, 0.1],
      [0.9, 0.9],
      [0.1, 0.9],
    ];
    const tid = String(target.target_id);
    expect((await api.targets.setTargetRegions(tid, { regions: [{ mode: 'EXCLUDE', points: square, label: 'clamp' }] })).data.data).toEqual({
      target_id: target.target_id,
      model_id: null,
      inherited: false,
      regions: [{ mode: 'EXCLUDE', points: square, sensitivity: 1, label: 'clamp' }],
    });
    expect((await api.targets.getTargetRegions(tid)).data.data!.regions).toHaveLength(1);
    expect((await api.models.setModelRegions('active', { regions: [] })).data.data).toMatchObject({ model_id: model.model_id, inherited: false, regions: [] });
    expect((await api.models.resetModelRegions('active')).data.data).toMatchObject({ inherited: true, regions: [{ mode: 'EXCLUDE' }] });
    expect((await api.models.getModelRegions(model.model_id)).data.data!.inherited).toBe(true);
    await expect(api.targets.setTargetRegions(tid, { regions: [{ mode: 'INCLUDE', points: square.slice(0, 2) }] })).rejects.toMatchObject({
      status: 422,
      error: { errors: { status: 422, detail: 'regions.0.points: a polygon needs at least 3 points, got 2' } },
    });
    await api.targets.setTargetRegions(tid, { regions: [] });

    // Prediction items, judged in the background by the active model.
    const fresh = (await api.items.addItem({ files: [await picture(60), await picture(61, true)], training: false, model_id: 'active' })).data.data!.item_ids!;
    const results = srv.server.services.pubsub.subscribe('predictionResult', model.model_id);
    await results.ready;
    const job = (await api.models.predictItems('active', { item_ids: fresh })).data.data!;
    expect(job).toMatchObject({ item_ids: fresh, model_id: model.model_id, model_version: model.version });
    const judged = new Set<string>();
    for await (const ev of results) if (judged.add(ev.itemId).size === fresh.length) break;
    await results.return();

    const page = (await api.items.getItemsByType({ item_type: 'prediction', model_id: model.model_id, count: 10, page: 1 })).data.data!;
    expect(page).toMatchObject({ current_page: 1, end_page: 1, count_per_page: 10 });
    expect(page.items!.map((i) => i.item_id).sort()).toEqual([...fresh].sort());
    for (const item of page.items!) {
      expect(item.status).toBe('PREDICTED');
      expect(item.assessments).toEqual([expect.objectContaining({ model_id: model.model_id, result: expect.stringMatching(/^(GOOD|BAD)$/) })]);
    }
    const one = (await api.items.getItemById(fresh[1]!, { show_annotations: true })).data.data!;
    expect(one.assessments![0]!.images!.length).toBeGreaterThan(0);
    expect((await api.items.annotate(fresh[1]!, { annotations: [{ x_min: 2, x_max: 20, y_min: 2, y_max: 20, label: 1, notes: 'spot' }] })).status).toBe(202);

    const csv = await api.targets.getModelResults({ model_ids: [model.model_id] }, { format: 'text' });
    const rows = (csv.data as unknown as string).trim().split(/\r?\n/);
    expect(rows).toHaveLength(1 + fresh.length);

    const exported = await api.models.exportModelsWithId({ model_ids: [model.model_id] }, { format: 'blob' });
    const zip = exported.data as unknown as Blob;
    const imported = (await api.models.importModels({ models: new File([zip], 'models.zip', { type: 'application/zip' }) })).data.data!;
    expect(imported).toEqual([expect.objectContaining({ name: 'typed-client', status: 'READY' })]);

    const hash = (await api.utils.getHashId()).data.data!.hash_id!;
    expect(hash).toEqual(expect.any(String));
    await expect(api.utils.setLicense({ license_data: new File(['{}'], 'license.json') })).rejects.toMatchObject({ status: 422 });
    expect((await api.utils.getLogs({ format: 'blob' })).status).toBe(200);
    expect((await api.items.deleteItems({ item_ids: [fresh[0]!] })).data.data!.item_ids).toEqual([fresh[0]]);
    expect((await api.models.deleteModels({ model_ids: [imported[0]!.model_id] })).data.data!.model_ids).toEqual([imported[0]!.model_id]);
    await expect(api.models.getModelById(imported[0]!.model_id)).rejects.toMatchObject({ status: 404 });

    // Every operation of the document answered, and every answer matched it.
    const operations = Object.values<any>(doc.paths).flatMap((item) => Object.values<any>(item).map((op) => op.operationId));
    expect(operations.filter((id) => id !== 'getOpenApiDocument' && !srv.checker.seen.has(id))).toEqual([]);
  }, 120_000);
});

// Last: generating runs a while on this thread, and the gateway above lives in the same process.
describe('the committed typed client', () => {
  it('is what the committed typed client was generated from (npm run print-schema regenerates both)', async () => {
    const files = await generateRestClient(doc);
    for (const [name, text] of Object.entries(files)) expect(fs.readFileSync(path.join(CLIENT_DIR, name), 'utf8'), name).toBe(text);
  }, 120_000);
});
