// Writes what is committed beside the code and compared by drift tests:
// - schema.graphql, the printed GraphQL schema (test/schema-drift.test.ts);
// - openapi.json, the REST API's OpenAPI 3.1 document as GET /api/v1/openapi.json serves it;
// - clients/typescript/spectro-rest.{js,d.ts}, the typed REST client generated from that document
//   by swagger-typescript-api (test/rest-openapi.test.ts regenerates it from the served document).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { printSchema, lexicographicSortSchema } from 'graphql';
import { openApiDocument } from '../src/rest/index.ts';
import { schema } from '../src/schema/index.ts';

export const SCHEMA_FILE = fileURLToPath(new URL('../schema.graphql', import.meta.url));
export const OPENAPI_FILE = fileURLToPath(new URL('../openapi.json', import.meta.url));
export const CLIENT_DIR = fileURLToPath(new URL('../clients/typescript/', import.meta.url));
export const CLIENT_NAME = 'spectro-rest';

export const printedSchema = () => `${printSchema(lexicographicSortSchema(schema))}\n`;
export const printedOpenApi = (doc: unknown = openApiDocument()) => `${JSON.stringify(doc, null, 2)}\n`;

/** The typed client for `doc` as { file name: text } (spectro-rest.js and spectro-rest.d.ts). */
export async function generateRestClient(doc: unknown): Promise<Record<string, string>> {
  const { generateApi } = await import('swagger-typescript-api');
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'spectro-client-'));
  try {
    const result = await generateApi({
      spec: structuredClone(doc) as never,
      output: out,
      fileName: CLIENT_NAME,
      httpClientType: 'fetch',
      silent: true,
      toJS: true,
      moduleNameFirstTag: true,
      generateUnionEnums: true,
      sortTypes: true,
      templates: path.join(CLIENT_DIR, 'templates'),
    });
    return Object.fromEntries(result.files.map((f) => [`${f.fileName}${f.fileExtension}`, f.fileContent]));
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === fs.realpathSync(process.argv[1])) {
  fs.writeFileSync(SCHEMA_FILE, printedSchema());
  fs.writeFileSync(OPENAPI_FILE, printedOpenApi());
  fs.mkdirSync(CLIENT_DIR, { recursive: true });
  for (const [name, text] of Object.entries(await generateRestClient(openApiDocument()))) fs.writeFileSync(path.join(CLIENT_DIR, name), text);
  process.stdout.write(`wrote ${SCHEMA_FILE}, ${OPENAPI_FILE} and ${CLIENT_DIR}\n`);
}
