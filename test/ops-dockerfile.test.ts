import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { validate } from 'dockerfile-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './gateway-process.ts';
import { startServer, type TestServer } from './predict-server.ts';

/**
 * No Docker engine here (and no buildx), so the image cannot be built in CI: the Dockerfile is
 * checked by a Dockerfile validator (dockerfile-utils, the VS Code Docker extension's) and for
 * what the deployment relies on. Its CMD is started and signalled in ops-signals.test.ts.
 */
const root = path.resolve(import.meta.dirname, '..');
const dockerfile = fs.readFileSync(path.join(root, 'Dockerfile'), 'utf8');

/** Instructions per stage, continuation lines joined. */
function stages(text: string) {
  const lines = text
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .filter((l) => l.trim() && !l.trim().startsWith('#'));
  const out: { name: string; from: string; lines: string[] }[] = [];
  for (const line of lines) {
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) out.push({ from: from[1]!, name: from[2] ?? '', lines: [] });
    else out.at(-1)?.lines.push(line);
  }
  return out;
}

describe('the Dockerfile', () => {
  const all = stages(dockerfile);

  it('passes the Dockerfile validator (which does flag a broken one)', () => {
    expect(validate(dockerfile).map((d) => `line ${d.range.start.line + 1}: ${d.message}`)).toEqual([]);
    expect(validate(`${dockerfile}\nHEALTHCHECK --intervall=3s CMD true\nCOPYY a b\n`).length).toBeGreaterThanOrEqual(2);
  });

  it('builds on Node 24, the CPU image by default (last stage) and the CUDA image as --target cuda', () => {
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:24-bookworm-slim$/m);
    expect(dockerfile).toMatch(/^ARG CUDA_IMAGE=nvidia\/cuda:13[^\s]*cudnn[^\s]*$/m);
    expect(all.map((s) => s.name)).toEqual(['deps', 'dashboard', 'cuda-provider', 'cuda', 'cpu']);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the Dockerfile's own ARG reference
    expect(all.at(-1)!.from).toBe('${NODE_IMAGE}');
    const cuda = all.find((s) => s.name === 'cuda')!;
    expect(cuda.lines.some((l) => /COPY --from=cuda-provider .* \.\/node_modules\/onnxruntime-node\/bin\/napi-v6\/linux\/x64\//.test(l))).toBe(true);
    expect(cuda.lines.some((l) => /COPY --from=deps \/usr\/local\/bin\/node /.test(l))).toBe(true);
  });

  it('installs with the lock file and .npmrc (engine-strict), without dev dependencies or the onnxruntime download', () => {
    const deps = all.find((s) => s.name === 'deps')!.lines;
    const copy = deps.findIndex((l) => /^COPY package\.json package-lock\.json \.npmrc \.\/$/.test(l));
    const ci = deps.findIndex((l) => /^RUN npm ci --omit=dev/.test(l));
    expect(copy).toBeGreaterThanOrEqual(0);
    expect(ci).toBeGreaterThan(copy);
    expect(deps.slice(0, ci).some((l) => /ONNXRUNTIME_NODE_INSTALL=skip/.test(l))).toBe(true);
    for (const f of ['package.json', 'package-lock.json', '.npmrc', 'schema.graphql', 'src/main.ts']) expect(fs.existsSync(path.join(root, f)), f).toBe(true);
    const ignored = fs.readFileSync(path.join(root, '.dockerignore'), 'utf8').split('\n');
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'data', '.git']));
  });

  it('builds the dashboard in a stage of its own (with the dev dependencies) and ships only its build', () => {
    const build = all.find((s) => s.name === 'dashboard')!.lines;
    expect(build).toEqual(expect.arrayContaining(['COPY dashboard ./dashboard', 'RUN npm run build:dashboard']));
    for (const f of ['dashboard/vite.config.ts', 'scripts/build-dashboard.ts', 'src/http/document-hash.ts'])
      expect(fs.existsSync(path.join(root, f)), f).toBe(true);
    for (const name of ['cuda', 'cpu']) {
      expect(all.find((s) => s.name === name)!.lines, name).toContain('COPY --from=dashboard /app/dist/dashboard ./dist/dashboard');
    }
  });

  for (const name of ['cuda', 'cpu']) {
    it(`${name} image: non-root, /data volume, port 4000, SIGTERM, a HEALTHCHECK on /health, node as PID 1`, () => {
      const s = all.find((x) => x.name === name)!.lines;
      expect(s.find((l) => l.startsWith('USER '))).toMatch(/^USER (node|spectro)$/);
      expect(s).toEqual(expect.arrayContaining(['VOLUME ["/data"]', 'EXPOSE 4000', 'STOPSIGNAL SIGTERM', 'CMD ["node", "src/main.ts"]']));
      expect(s.find((l) => l.startsWith('ENV '))).toMatch(/DATA_DIR=\/data/);
      expect(s.find((l) => l.startsWith('HEALTHCHECK '))).toMatch(/CMD \["node", "-e", ".*\/health.*"\]$/);
    });
  }

  describe('its HEALTHCHECK command, run as Docker runs it', () => {
    let ts: TestServer;
    beforeAll(async () => {
      ts = await startServer();
    });
    afterAll(async () => {
      await ts?.stop();
    });
    const check = JSON.parse(/HEALTHCHECK .* CMD (\[.*\])$/m.exec(dockerfile.replace(/\\\n\s*/g, ' '))![1]!) as string[];
    const run = (port: number) =>
      promisify(execFile)(check[0] === 'node' ? process.execPath : check[0]!, check.slice(1), {
        env: { ...process.env, PORT: String(port) },
        timeout: 10_000,
      }).then(
        () => 0,
        (err: { code?: number }) => err.code ?? -1,
      );

    it('exits 0 while the gateway answers on PORT, 1 when nothing does', async () => {
      expect(await run(Number(new URL(ts.url).port))).toBe(0);
      expect(await run(await freePort())).toBe(1);
    });
  });
});
