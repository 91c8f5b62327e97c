import { print, type DocumentNode } from 'graphql';

/** The text the page sends for a document: the operation, then the fragments it spreads. */
const texts = new WeakMap<DocumentNode, string>();
export function documentText(document: DocumentNode): string {
  let text = texts.get(document);
  if (text === undefined) texts.set(document, (text = print(document)));
  return text;
}

/** The operation's name (what `operationName` says). */
export function operationName(document: DocumentNode): string {
  const op = document.definitions.find((d) => d.kind === 'OperationDefinition');
  const name = op?.kind === 'OperationDefinition' ? op.name?.value : undefined;
  if (!name) throw new Error('a dashboard document without a named operation');
  return name;
}
