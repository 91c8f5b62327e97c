import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DocumentNode } from 'graphql';
import type { Plugin } from 'vite';
import { documentHash } from '../src/http/document-hash.ts';

/** Where the build writes the page's trusted documents (src/http/trusted-documents.ts reads it). */
export const MANIFEST_NAME = 'trusted-documents.json';

/**
 * Writes `trusted-documents.json` next to the built page: `{ "<hash>": "<document>" }` for every
 * operation of dashboard/src/graphql/operations.ts, spelled as the page sends it and hashed as
 * the gateway hashes (src/http/document-hash.ts). TRUSTED_DOCUMENTS=enforce runs these.
 */
export function trustedDocuments(root: string): Plugin {
  return {
    name: 'spectro-trusted-documents',
    apply: 'build',
    async generateBundle() {
      // Node loads these modules itself (type stripping): they are the very objects the page bundles.
      const load = (file: string) => import(pathToFileURL(path.join(root, file)).href);
      const operations = (await load('src/graphql/operations.ts')) as Record<string, DocumentNode>;
      const { documentText } = (await load('src/graphql/document.ts')) as typeof import('./src/graphql/document.ts');
      const manifest: Record<string, string> = {};
      for (const doc of Object.values(operations)) {
        const text = documentText(doc);
        manifest[documentHash(text)] = text;
      }
      this.emitFile({ type: 'asset', fileName: MANIFEST_NAME, source: `${JSON.stringify(manifest, null, 2)}\n` });
    },
  };
}
