import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../src/config.ts';

/**
 * docker-compose.yml, the scale-out topology. Without a Docker engine (CI here has none) it is
 * parsed and checked for what the deployment relies on; `docker compose config` validates it as
 * well where docker with compose is installed. test/cluster.test.ts runs the same topology as processes.
 */
const root = path.resolve(import.meta.dirname, '..');
const file = path.join(root, 'docker-compose.yml');
const compose = parse(fs.readFileSync(file, 'utf8'), { merge: true }) as { services: Record<string, any>; volumes: Record<string, unknown> };
const gateways = Object.entries(compose.services).filter(([, s]) => s.image === 'spectro-gateway');
const roleOf = (role: string) => gateways.filter(([, s]) => s.environment.ROLE === role).map(([n]) => n);

const dockerCompose = await promisify(execFile)('docker', ['compose', 'version'], { timeout: 10_000 }).then(
  () => true,
  () => false,
);

describe('docker-compose.yml', () => {
  it('has 2 API instances behind the proxy, 2 workers, PostgreSQL, Redis and an S3-compatible store', () => {
    expect(roleOf('api')).toEqual(['api1', 'api2']);
    expect(roleOf('worker')).toEqual(['worker1', 'worker2']);
    const nginx = fs.readFileSync(path.join(root, 'deploy/nginx.conf'), 'utf8');
    for (const api of roleOf('api')) expect(nginx).toContain(`server ${api}:4000`);
    expect(nginx).toMatch(/proxy_set_header Upgrade \$http_upgrade/);
    expect(nginx).toMatch(/proxy_buffering off/);
    expect(compose.services.proxy.ports).toEqual(['4000:80']);
    expect(Object.keys(compose.services)).toEqual(expect.arrayContaining(['postgres', 'redis', 'minio', 'minio-bucket']));
    // BullMQ's jobs must survive a Redis restart, and Redis must never evict them.
    expect(compose.services.redis.command.join(' ')).toMatch(/--appendonly yes.*noeviction/);
  });

  it('gives every gateway a configuration the gateway accepts, pointing at those services, with one shared token secret', () => {
    const read = new Set([...fs.readFileSync(path.join(root, 'src/config.ts'), 'utf8').matchAll(/env\.([A-Z0-9_]+)/g)].map((m) => m[1]));
    for (const [name, s] of gateways) {
      for (const key of Object.keys(s.environment)) expect(read.has(key), `${name}: ${key} is not a setting of src/config.ts`).toBe(true);
      const config = loadConfig(s.environment);
      expect(config.databaseUrl).toMatch(/@postgres:5432\//);
      expect(config.redisUrl).toBe('redis://redis:6379');
      expect(config.s3).toMatchObject({ endpoint: 'http://minio:9000', bucket: 'spectro', forcePathStyle: true });
      expect(s.environment.JWT_SECRET).toBe(gateways[0]![1].environment.JWT_SECRET);
      expect(s.depends_on['minio-bucket']).toEqual({ condition: 'service_completed_successfully' });
      expect(s.stop_grace_period).toBe('20s');
    }
    expect(compose.services['minio-bucket'].entrypoint.join(' ')).toContain(`local/${gateways[0]![1].environment.S3_BUCKET}`);
  });

  it.skipIf(!dockerCompose)('passes `docker compose config`', async () => {
    await promisify(execFile)('docker', ['compose', '-f', file, 'config', '--quiet'], { cwd: root, timeout: 30_000 });
  });
});
