// Plain-JS entry of the session worker thread (see worker-entry.mjs for why).
import { tsImport } from 'tsx/esm/api';

await tsImport('./session-worker.ts', import.meta.url);
