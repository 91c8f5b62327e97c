import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject } from 'zod-openapi';
import { BaseError, LoginParams, LoginResponse } from './contract/schemas.ts';
import { EXTENSION, z } from './contract/zod.ts';
import { jsonContent, type Operation } from './operation.ts';

export const OPENAPI_PATH = '/api/v1/openapi.json';

const DESCRIPTION = `The REST API of spectro-rest-v1 ("Saas web detection v1"), served by the Spectro gateway next to its GraphQL API (/graphql).

Every operation, schema, field name, type and status code of the original document is kept as it was. What the original does not have is marked \`${EXTENSION}: true\` (operations, fields, parameters): extra response fields that clients generated from the original simply ignore, and a few extra routes (activate a model, delete items, this document).

- Integer ids (target_id, context_id, algorithm_parameter_id, annotation_id) are the records' stable integer keys. Item and model ids are strings (the same ids GraphQL uses).
- Enum values are upper case everywhere (JSON, results CSV, GraphQL): a model's status is QUEUED, TRAINING, READY, FAILED or CANCELLED; a result is GOOD or BAD.
- Every failure answers the BaseError shape; \`message[].key\` names the REST field (\`item_ids\`, \`annotations.0.x_min\`).
- Prediction results are also pushed: webhooks (managed in GraphQL) and MQTT, see \`webhooks\` below and docs/integration.md.`;

const security = (op: Operation): Record<string, string[]>[] =>
  op.scope === 'public' ? [] : [{ bearer: [] }, { oauth2: [op.scope === 'read' ? 'read' : 'all'] }];

function operationObject(op: Operation): ZodOpenApiOperationObject {
  const requestBody = op.body
    ? {
        required: op.body.required ?? false,
        ...(op.body.description ? { description: op.body.description } : {}),
        content: {
          ...(op.body.json ? { 'application/json': { schema: op.body.json } } : {}),
          ...(op.body.multipart ? { 'multipart/form-data': { schema: op.body.multipart } } : {}),
        },
      }
    : undefined;
  return {
    operationId: op.operationId,
    tags: [op.tag],
    summary: op.summary,
    ...(op.description || op.extension
      ? { description: [op.description, op.extension ? `Extension: ${op.extension}` : null].filter(Boolean).join('\n\n') }
      : {}),
    ...(op.params || op.query
      ? { requestParams: { ...(op.params ? { path: op.params as z.ZodObject } : {}), ...(op.query ? { query: op.query as z.ZodObject } : {}) } }
      : {}),
    ...(requestBody ? { requestBody } : {}),
    responses: op.responses,
    security: security(op),
    ...(op.extension ? { [EXTENSION]: true } : {}),
  };
}

/** Operations the REST router does not serve itself, documented here with the rest. */
const SERVED_ELSEWHERE: ZodOpenApiPathsObject = {
  '/api/auth/token': {
    post: {
      operationId: 'login',
      tags: ['Spectro'],
      summary: 'Authorization',
      description: 'Returns the access token (OAuth2 client credentials). Also accepts the fields form-encoded, and client_id/client_secret as HTTP Basic.',
      requestBody: {
        required: true,
        content: { 'application/json': { schema: LoginParams }, 'application/x-www-form-urlencoded': { schema: LoginParams } },
      },
      responses: {
        '200': { description: 'Successful login', content: jsonContent(LoginResponse) },
        default: { description: 'default error handler', content: jsonContent(BaseError) },
      },
      security: [],
    },
  },
  [OPENAPI_PATH]: {
    get: {
      operationId: 'getOpenApiDocument',
      tags: ['Spectro'],
      summary: 'This document',
      description: 'Extension: the OpenAPI 3.1 document of this API (no token needed).',
      responses: { '200': { description: 'OK', content: { 'application/json': { schema: z.object({ openapi: z.string() }).loose() } } } },
      security: [],
      [EXTENSION]: true,
    },
  },
};

/** The OpenAPI 3.1 document of the REST API, made from the operations' own schemas. */
export function createOpenApiDocument(operations: readonly Operation[], extra: { webhooks?: Record<string, unknown> } = {}) {
  const paths: ZodOpenApiPathsObject = { ...SERVED_ELSEWHERE };
  for (const op of operations) {
    paths[op.path] = { ...paths[op.path], [op.method]: operationObject(op) };
  }
  return createDocument({
    openapi: '3.1.0',
    info: { title: 'Saas web detection v1', version: '1.0.0', description: DESCRIPTION },
    servers: [{ url: '/', description: 'This gateway' }],
    tags: [
      { name: 'targets', description: 'Inspection Target related operations' },
      { name: 'algorithms', description: 'Algorithm related operations' },
      { name: 'models', description: 'Model related operations' },
      { name: 'items', description: 'Item related operations' },
      { name: 'utils', description: 'Support and utility functions' },
      { name: 'Spectro', description: 'Generic operations' },
    ],
    paths,
    ...(extra.webhooks ? { webhooks: extra.webhooks as never } : {}),
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        oauth2: {
          type: 'oauth2',
          flows: { clientCredentials: { tokenUrl: '/api/auth/token', scopes: { all: 'all scopes', read: 'read only (extension)' } } },
        },
      },
    },
  });
}
