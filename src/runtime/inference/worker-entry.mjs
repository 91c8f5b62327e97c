// The inference worker thread's plain-JS entry: neither `node --import tsx` (the app) nor
// vitest's transform (tests) necessarily applies inside a fresh worker, so tsImport compiles the
// TypeScript worker scoped to this import (as the training workers do).
import { tsImport } from 'tsx/esm/api';

await tsImport('./worker.ts', import.meta.url);
