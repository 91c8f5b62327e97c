// Piscina loads this plain-JS entry in a fresh worker thread, where neither `node --import tsx`
// (the app) nor vitest's transform (tests) necessarily applies: tsImport compiles the TypeScript
// worker scoped to this import, so it works under both.
import { tsImport } from 'tsx/esm/api';

const mod = await tsImport('./worker.ts', import.meta.url);

export default mod.default;
