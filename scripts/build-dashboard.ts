import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Builds the dashboard (dashboard/ -> dist/dashboard/) with Vite. `npm ci` runs it (the root
 * package's `prepare`), so a fresh clone serves the page; the tests' global setup runs it when the
 * build is missing or older than its sources. An install without dev dependencies
 * (`npm ci --omit=dev`, the Docker image's production layer) has no Vite: then it says so and
 * leaves the build to the image's build stage.
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const DASHBOARD_SRC = path.join(ROOT, 'dashboard');
export const DASHBOARD_OUT = path.join(ROOT, 'dist/dashboard');
const CONFIG = path.join(DASHBOARD_SRC, 'vite.config.ts');

/** What the build is made from: the dashboard's files and the schema its operations are checked against. */
function sourceFiles(dir = DASHBOARD_SRC): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : sourceFiles(p);
    return [p];
  });
}

/** True when dist/dashboard is missing or older than a file it is built from. */
export function dashboardIsStale(): boolean {
  const built = path.join(DASHBOARD_OUT, 'trusted-documents.json');
  if (!fs.existsSync(built) || !fs.existsSync(path.join(DASHBOARD_OUT, 'index.html'))) return true;
  const at = fs.statSync(built).mtimeMs;
  return [...sourceFiles(), path.join(ROOT, 'src/http/document-hash.ts')].some((f) => fs.statSync(f).mtimeMs > at);
}

export async function buildDashboard(): Promise<void> {
  const { build } = await import('vite');
  await build({ configFile: CONFIG, logLevel: 'warn' });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  let hasVite = true;
  try {
    import.meta.resolve('vite');
  } catch {
    hasVite = false;
  }
  if (!hasVite) {
    console.log('build-dashboard: vite is not installed (a production install without dev dependencies); dist/dashboard is not built here');
  } else {
    await buildDashboard();
    console.log(`build-dashboard: built ${path.relative(process.cwd(), DASHBOARD_OUT) || DASHBOARD_OUT}`);
  }
}
