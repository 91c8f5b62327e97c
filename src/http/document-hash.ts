import { createHash } from 'node:crypto';
import { Kind, parse, print, type DefinitionNode, type DocumentNode } from 'graphql';

/**
 * How a trusted document is spelled and hashed. Its own module (graphql and crypto only) so the
 * dashboard's build (dashboard/vite-plugin-trusted-documents.ts) hashes its operations exactly as
 * the gateway does, without loading the gateway.
 */

/** One spelling per document: definitions printed in a fixed order (operations, then fragments by name). */
export function canonicalDocument(document: DocumentNode): string {
  const name = (d: DefinitionNode) => ('name' in d && d.name ? d.name.value : '');
  const rank = (d: DefinitionNode) => (d.kind === Kind.OPERATION_DEFINITION ? 0 : 1);
  const definitions = [...document.definitions].sort((a, b) => rank(a) - rank(b) || name(a).localeCompare(name(b)));
  return print({ kind: Kind.DOCUMENT, definitions });
}

/** The hash a trusted document is known by: sha256 (hex) of its canonical text. */
export const documentHash = (text: string) =>
  createHash('sha256')
    .update(canonicalDocument(parse(text)))
    .digest('hex');
