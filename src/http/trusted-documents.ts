import fs from 'node:fs';
import { GraphQLError, parse, type DocumentNode } from 'graphql';
import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import type { GraphQLParams, Plugin } from 'graphql-yoga';
import { ConfigError } from '../config.ts';
import type { TrustedDocumentsMode } from '../config-security.ts';
import { loadDashboardManifest } from './dashboard.ts';
import { canonicalDocument, documentHash } from './document-hash.ts';

/**
 * Trusted documents (docs/security.md, TRUSTED_DOCUMENTS): the operations the gateway knows, by
 * hash. `allow` serves them by hash beside any other operation; `enforce` runs nothing else, over
 * HTTP and WebSocket. A document counts as trusted by its hash or by its text (whitespace, and the
 * order of its definitions, do not matter), so the dashboard, which sends its text, keeps working.
 */
export interface TrustedDocuments {
  mode: TrustedDocumentsMode;
  /** Hash -> document text. */
  readonly byHash: ReadonlyMap<string, string>;
  /** The text of a persisted operation named by the request (`extensions.persistedQuery.sha256Hash` or `documentId`), or null. */
  lookup(params: Pick<GraphQLParams, 'extensions'> & { documentId?: unknown }): string | null | undefined;
  isTrusted(document: DocumentNode): boolean;
}

export { canonicalDocument, documentHash };

/**
 * The dashboard's operations, each with the fragments it spreads (what the page sends): the
 * manifest its build writes (dist/dashboard/trusted-documents.json). None when it is not built.
 */
export function dashboardDocuments(manifest = loadDashboardManifest()): string[] {
  return manifest ? Object.values(manifest) : [];
}

/** TRUSTED_DOCUMENTS_FILE: a JSON object `{ "<hash>": "<document>" }` (the format of persisted-operation manifests). */
function readFile(file: string): Map<string, string> {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`TRUSTED_DOCUMENTS_FILE: cannot read ${file} as JSON (${(err as Error).message})`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw))
    throw new ConfigError(`TRUSTED_DOCUMENTS_FILE: ${file} must hold a JSON object of hash -> document`);
  const out = new Map<string, string>();
  for (const [hash, text] of Object.entries(raw)) {
    if (typeof text !== 'string') throw new ConfigError(`TRUSTED_DOCUMENTS_FILE: the document of "${hash}" is not a string`);
    try {
      parse(text);
    } catch (err) {
      throw new ConfigError(`TRUSTED_DOCUMENTS_FILE: the document of "${hash}" does not parse (${(err as Error).message})`);
    }
    out.set(hash, text);
  }
  return out;
}

export function loadTrustedDocuments(mode: TrustedDocumentsMode, file: string | null): TrustedDocuments {
  const byHash = new Map<string, string>();
  for (const text of dashboardDocuments()) byHash.set(documentHash(text), text);
  if (file) for (const [hash, text] of readFile(file)) byHash.set(hash, text);
  const canonical = new Set([...byHash.values()].map((t) => canonicalDocument(parse(t))));
  // Yoga hands the same parsed document for the same text (its parse cache): decide once each.
  const verdicts = new WeakMap<DocumentNode, boolean>();
  return {
    mode,
    byHash,
    lookup(params) {
      const pq = (params.extensions as { persistedQuery?: { sha256Hash?: unknown } } | undefined)?.persistedQuery;
      const id = typeof pq?.sha256Hash === 'string' ? pq.sha256Hash : typeof params.documentId === 'string' ? params.documentId : null;
      if (id === null) return null;
      return byHash.get(id);
    },
    isTrusted(document) {
      let v = verdicts.get(document);
      if (v === undefined) verdicts.set(document, (v = canonical.has(canonicalDocument(document))));
      return v;
    },
  };
}

const notTrusted = () =>
  new GraphQLError(
    'this operation is not a trusted document: the gateway runs only its known operations (TRUSTED_DOCUMENTS=enforce); send one of them, by its hash or its text',
    {
      extensions: { code: 'PERSISTED_QUERY_ONLY', http: { status: 400 } },
    },
  );
const notFound = () =>
  new GraphQLError('no trusted document has this hash (PersistedQueryNotFound)', { extensions: { code: 'PERSISTED_QUERY_NOT_FOUND', http: { status: 400 } } });

/**
 * The HTTP side: operations by hash (Yoga's persisted-operations plugin); in `enforce`, every
 * document is checked at validation, which the WebSocket transport runs through the same plugins.
 */
export function trustedDocumentsPlugins(docs: TrustedDocuments | null): Plugin[] {
  if (!docs) return [];
  const enforce: Plugin = {
    onValidate({ params, setResult }) {
      if (!docs.isTrusted(params.documentAST)) setResult([notTrusted()]);
    },
  };
  return [
    usePersistedOperations({
      getPersistedOperation: (key) => docs.byHash.get(key) ?? null,
      // Text is let through here; `enforce` checks it against the trusted set at validation.
      allowArbitraryOperations: true,
      customErrors: { notFound: (_p) => notFound() },
    }),
    ...(docs.mode === 'enforce' ? [enforce] : []),
  ];
}

/** The WebSocket side of lookups by hash: the subscribe message's text, or the trusted document its hash names. */
export function resolveWsQuery(
  docs: TrustedDocuments | null,
  params: { query: string; extensions?: Record<string, unknown> | null; documentId?: unknown },
): string | GraphQLError {
  if (!docs) return params.query;
  const found = docs.lookup({ extensions: params.extensions ?? undefined, documentId: params.documentId });
  if (found === null) return params.query;
  return found ?? notFound();
}
