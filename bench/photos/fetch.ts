import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DebianFile } from './sources.ts';

/**
 * Brings the benchmark's photographs into a local cache (default bench/.cache/photos, or
 * SPECTRO_PHOTO_CACHE): `apt-get download` of each pinned package version, the one file taken
 * out with dpkg-deb, its sha256 checked. Nothing is fetched when the cache already holds it.
 */

export const PHOTO_CACHE = resolve(process.env.SPECTRO_PHOTO_CACHE ?? join(dirname(fileURLToPath(import.meta.url)), '..', '.cache', 'photos'));

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const cachedName = (f: DebianFile) => join(PHOTO_CACHE, f.package, f.path.replace(/^\/+/, ''));

function download(pkg: string, version: string, dir: string): string {
  try {
    execFileSync('apt-get', ['download', `${pkg}=${version}`], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const why = (e as { stderr?: Buffer }).stderr?.toString().trim() || String(e);
    throw new Error(
      `could not download the Debian package ${pkg}=${version} (${why}). The quality benchmark needs Debian's package ` +
        `archive (apt-get) once; or put the files under ${PHOTO_CACHE} yourself (bench/photos/sources.ts lists them).`,
    );
  }
  const deb = readdirSync(dir).find((n) => n.startsWith(`${pkg}_`) && n.endsWith('.deb'));
  if (!deb) throw new Error(`apt-get download ${pkg}=${version} left no .deb in ${dir}`);
  return join(dir, deb);
}

/** Paths of the cached files, in the order given; downloads what is missing. */
export function ensurePhotos(files: readonly DebianFile[], log: (line: string) => void = () => {}): string[] {
  const missing = files.filter((f) => !existsSync(cachedName(f)));
  const byPackage = new Map<string, DebianFile[]>();
  for (const f of missing) byPackage.set(`${f.package}=${f.version}`, [...(byPackage.get(`${f.package}=${f.version}`) ?? []), f]);
  for (const [key, wanted] of byPackage) {
    const [pkg, version] = key.split('=') as [string, string];
    const work = mkdtempSync(join(tmpdir(), 'spectro-photos-'));
    try {
      log(`fetching ${pkg} ${version} from Debian for ${wanted.length} photograph(s)`);
      const deb = download(pkg, version, work);
      for (const f of wanted) {
        const bytes = execFileSync('sh', ['-c', 'dpkg-deb --fsys-tarfile "$1" | tar -xOf - "$2"', 'sh', deb, `.${f.path}`], {
          maxBuffer: 256 * 1024 * 1024,
        });
        const got = sha256(bytes);
        if (got !== f.sha256) throw new Error(`${f.package}:${f.path} has sha256 ${got}, expected ${f.sha256}`);
        const dest = cachedName(f);
        mkdirSync(dirname(dest), { recursive: true });
        writeFileSync(`${dest}.part`, bytes);
        renameSync(`${dest}.part`, dest);
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  return files.map((f) => {
    const path = cachedName(f);
    const got = sha256(readFileSync(path));
    if (got !== f.sha256) throw new Error(`${path} is not the expected file (sha256 ${got}); delete it to fetch it again`);
    return path;
  });
}
