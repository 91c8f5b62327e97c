import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { cruise, type ICruiseResult } from 'dependency-cruiser';
import { afterAll, describe, expect, test } from 'vitest';

// The rules live in .dependency-cruiser.cjs (also `npm run lint:layers`).
const config = createRequire(import.meta.url)('../.dependency-cruiser.cjs');

async function cruiseTree(baseDir: string): Promise<ICruiseResult> {
  const { output } = await cruise(
    ['src'],
    { ...config.options, baseDir, validate: true, ruleSet: { forbidden: config.forbidden } },
    config.options.enhancedResolveOptions,
  );
  return output as ICruiseResult;
}

const violationsOf = (result: ICruiseResult) => result.summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`);

describe('layers', () => {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'spectro-layers-'));
  afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

  test('the runtime imports no API code, resolvers no HTTP code, and engines reach each other only through interface files', async () => {
    const result = await cruiseTree(process.cwd());
    // The parser really ran: the whole tree, with the dependencies we know of.
    expect(result.summary.totalCruised).toBeGreaterThan(150);
    const training = result.modules.find((m) => m.source === 'src/runtime/training/index.ts');
    expect(training?.dependencies.map((d) => d.resolved)).toContain('src/runtime/jobs/jobs.ts');
    expect(violationsOf(result)).toEqual([]);
  });

  test('a violation of each kind is refused, and an import of an engine interface file is not', async () => {
    const files: Record<string, string> = {
      'src/http/files.ts': 'export const x = 1;\n',
      'src/context.ts': 'export const ctx = 1;\n',
      'src/resolvers/items.ts': "import { x } from '../http/files.ts';\nexport const y = x;\n",
      'src/runtime/inference/inference.ts': 'export interface InferenceService { run(): void }\n',
      'src/runtime/inference/service.ts': 'export const service = 1;\n',
      'src/runtime/training/worker.ts': "import { service } from '../inference/service.ts';\nexport const w = service;\n",
      'src/runtime/models/index.ts': "import type { InferenceService } from '../inference/inference.ts';\nexport type M = InferenceService;\n",
      'src/runtime/items/index.ts': "import { ctx } from '../../context.ts';\nexport const i = ctx;\n",
      'src/runtime/store/store.ts': "import { i } from '../items/index.ts';\nexport const s = i;\n",
    };
    for (const [file, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(scratch, file)), { recursive: true });
      fs.writeFileSync(path.join(scratch, file), text);
    }
    expect(violationsOf(await cruiseTree(scratch)).sort()).toEqual([
      'engines-apart: src/runtime/training/worker.ts -> src/runtime/inference/service.ts',
      'lower-layers-stay-low: src/runtime/store/store.ts -> src/runtime/items/index.ts',
      'resolvers-without-http: src/resolvers/items.ts -> src/http/files.ts',
      'runtime-below-the-api: src/runtime/items/index.ts -> src/context.ts',
      'store-and-onnx-at-the-bottom: src/runtime/store/store.ts -> src/runtime/items/index.ts',
    ]);
  });
});
