// A line client: watches the folder a camera PC writes pictures into, sends each new picture to
// the gateway's REST API (upload, then predict with the active model) and prints GOOD or BAD.
// Node 24 and the repository's dev dependencies (chokidar, the generated REST client):
//
//   SPECTRO_URL=http://localhost:4000 SPECTRO_CLIENT_ID=spc_... SPECTRO_CLIENT_SECRET=... \
//     node examples/line-client.ts /path/to/camera/folder
//
// Results are read back with GET /api/v1/items/{id}; a PLC that should react within
// milliseconds takes them from a webhook or MQTT instead (docs/integration.md).
import path from 'node:path';
import fs from 'node:fs/promises';
import chokidar from 'chokidar';
import { Api } from '../clients/typescript/spectro-rest.js';

const folder = process.argv[2];
if (!folder) throw new Error('usage: node examples/line-client.ts <folder>');
const baseUrl = process.env.SPECTRO_URL ?? 'http://localhost:4000';
const api = new Api<string>({ baseUrl, securityWorker: (token) => (token ? { headers: { authorization: `Bearer ${token}` } } : {}) });

async function login() {
  const { data } = await api.spectro.login({
    grant_type: 'client_credentials',
    client_id: process.env.SPECTRO_CLIENT_ID ?? '',
    client_secret: process.env.SPECTRO_CLIENT_SECRET ?? '',
  });
  api.setSecurityData(data.access_token);
}

/** Upload, predict in the background, then read the result (waits for it, at most 30 s). */
async function judge(file: string): Promise<string> {
  const bytes = await fs.readFile(file);
  const added = await api.items.addItem({ files: [new File([bytes], path.basename(file))], training: false, model_id: 'active' });
  const itemId = added.data.data!.item_ids![0]!;
  await api.models.predictItems('active', { item_ids: [itemId] });
  for (let waited = 0; waited < 30_000; waited += 100) {
    const { data } = await api.items.getItemById(itemId, { model_id: 'active', show_annotations: false });
    const result = data.data?.assessments?.[0]?.result;
    if (result) return result;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no result for ${file} within 30 s`);
}

await login();
console.log(`watching ${folder}; sending pictures to ${baseUrl}`);
chokidar
  // awaitWriteFinish: the camera may still be writing the file when it appears.
  .watch(folder, { ignoreInitial: true, awaitWriteFinish: { stabilityThreshold: 200, pollInterval: 50 } })
  .on('add', async (file) => {
    if (!/\.(png|jpe?g|bmp|tiff?|webp)$/i.test(file)) return;
    try {
      console.log(`${path.basename(file)}: ${await judge(file)}`);
    } catch (err) {
      const status = (err as { status?: number }).status;
      if (status === 401)
        await login()
          .then(() => judge(file))
          .then(
            (r) => console.log(`${path.basename(file)}: ${r}`),
            (e) => console.error(e),
          );
      else console.error(`${path.basename(file)}: failed`, (err as { error?: unknown }).error ?? err);
    }
  });
