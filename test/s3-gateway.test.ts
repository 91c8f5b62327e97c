import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partPng } from './inference-fixtures.ts';
import { seedGoldenModel, startServer, type TestServer } from './predict-server.ts';
import { startS3Server, type S3Server } from './s3-server.ts';

// The gateway with its blobs in an S3-compatible bucket (s3rver): uploads go to the bucket,
// inference reads the model file and the pictures from it, and signed links keep working, served
// by the gateway, or as a redirect to a presigned URL with S3_PRESIGNED_DOWNLOADS.
let s3: S3Server;
const servers: TestServer[] = [];
beforeAll(async () => {
  s3 = await startS3Server();
});
afterAll(async () => {
  for (const ts of servers) await ts.stop();
  await s3?.stop();
});

const PREDICT = 'mutation ($files: [File!]!) { predictImages(files: $files, modelId: "active") { result item { images { url } } images { url } } }';

describe('the gateway on object storage', () => {
  it.each([
    ['served by the gateway', false],
    ['presigned', true],
  ])('stores uploads in the bucket, predicts from it, and its signed links work (%s)', async (_name, presigned) => {
    const bucket = await s3.bucket();
    const ts = await startServer({ ...bucket.env, ...(presigned ? { S3_PRESIGNED_DOWNLOADS: 'true' } : {}) });
    servers.push(ts);
    const { model } = await seedGoldenModel(ts);
    const before = new Set(await s3.keys(bucket.bucket));
    expect(before.has(model.onnxBlob!)).toBe(true);

    const picture = await partPng({ defect: { x: 20, y: 30, size: 14 } });
    const res = await ts.upload(PREDICT, { files: [null] }, { 'files.0': { name: 'part.png', body: picture, type: 'image/png' } });
    expect(res.errors).toBeUndefined();
    const [assessment] = res.data.predictImages;
    expect(assessment.result).toBe('BAD');
    // The picture went to the bucket, under its sha256.
    const added = (await s3.keys(bucket.bucket)).filter((k) => !before.has(k) && k !== 'blobs.owner');
    expect(added).toHaveLength(1);

    const image = await fetch(assessment.item.images[0].url, { redirect: 'manual' });
    if (presigned) {
      expect(image.status).toBe(302);
      expect(image.headers.get('location')).toContain(s3.endpoint);
    } else expect(image.status).toBe(200);
    const bytes = Buffer.from(await (await fetch(assessment.item.images[0].url)).arrayBuffer());
    expect(bytes.equals(picture)).toBe(true);
    // The heatmap is drawn by the gateway either way.
    const heatmap = await fetch(assessment.images[0].url);
    expect(heatmap.status).toBe(200);
    expect(heatmap.headers.get('content-type')).toBe('image/png');

    const csv = await ts.gql('mutation { exportModelResults(modelIds: ["active"]) { url } }');
    const download = await fetch(csv.data.exportModelResults.url);
    expect(download.status).toBe(200);
    expect(await download.text()).toMatch(/^model_id,/);
  });
});
