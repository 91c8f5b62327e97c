// The layers of the gateway, checked by test/layers.test.ts (and `npm run lint:layers`).
//
//   src/server.ts, src/context.ts        wiring: builds the engines, hands them to requests
//   src/schema, src/resolvers            GraphQL        } parse, call one engine method,
//   src/rest, src/http, src/transport    REST and HTTP  } shape the answer
//   src/runtime/<engine>/                engines: the use cases, behind small interfaces
//   src/observability                    metrics and tracing plumbing around the API and store
//   src/runtime/{store,onnx,images,pubsub,jobs,telemetry,events}  lower layers every engine may use
//
// An engine uses another only through the other's interface file (<engine>/<engine>.ts, types
// only), with the implementation injected by server.ts.
const ENGINES = 'auth|license|upstream|inference|training|items|models|predictions|targets|webhooks|mqtt';
const LOWER = 'store|onnx|images|pubsub|jobs|telemetry|events';
const INTERFACE_FILE = '^src/runtime/([a-z-]+)/\\1\\.ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'runtime-below-the-api',
      comment: 'Engines know nothing of GraphQL, REST, HTTP or the request context.',
      severity: 'error',
      from: { path: '^src/runtime/' },
      to: { path: ['^src/(schema|resolvers|http|rest|transport|observability)/', '^src/(server|context|loaders|links|main)\\.ts$'] },
    },
    {
      name: 'resolvers-without-http',
      comment: 'Resolvers reach links, files and everything else through the context, not src/http or src/rest.',
      severity: 'error',
      from: { path: '^src/(schema|resolvers)/' },
      to: { path: '^src/(http|rest|transport)/' },
    },
    {
      name: 'engines-apart',
      comment: "An engine may use another engine's interface file, never its internals.",
      severity: 'error',
      from: { path: `^src/runtime/(${ENGINES})/` },
      to: { path: `^src/runtime/(${ENGINES})/`, pathNot: ['^src/runtime/$1/', INTERFACE_FILE] },
    },
    {
      name: 'lower-layers-stay-low',
      comment: 'The store, the ONNX contract, images, pub/sub and jobs serve the engines and never call them.',
      severity: 'error',
      from: { path: `^src/runtime/(${LOWER})/` },
      to: { path: `^src/runtime/(${ENGINES})/` },
    },
    {
      name: 'store-and-onnx-at-the-bottom',
      comment: 'The records and the model contract depend on no other part of the runtime.',
      severity: 'error',
      from: { path: '^src/runtime/(store|onnx)/' },
      to: { path: '^src/runtime/', pathNot: '^src/runtime/$1/' },
    },
  ],
  options: {
    // TypeScript 7 has no JS API for dependency-cruiser; swc parses the sources instead.
    parser: 'swc',
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.(html|png|pem)$' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'] },
  },
};
