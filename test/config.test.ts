import { describe, expect, test } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';

describe('configuration', () => {
  test('an empty environment gives a gateway that needs nothing: port 4000, ./data, cpu or cuda chosen at start', () => {
    const config = loadConfig({});
    expect(config.port).toBe(4000);
    expect(config.dataDir.endsWith('/data')).toBe(true);
    expect(config.redisUrl).toBeNull();
    expect(config.databaseUrl).toBeNull();
    expect(config.executionProvider).toBe('auto');
  });

  test('a bad setting is refused with its name, instead of starting half-configured', () => {
    expect(() => loadConfig({ EXECUTION_PROVIDER: 'gpu' })).toThrow(ConfigError);
    expect(() => loadConfig({ EXECUTION_PROVIDER: 'gpu' })).toThrow(/EXECUTION_PROVIDER/);
    expect(() => loadConfig({ PORT: 'abc' })).toThrow(/PORT must be a whole number/);
    expect(() => loadConfig({ UPLOAD_MAX_FILES: '-1' })).toThrow(/UPLOAD_MAX_FILES/);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://db/spectro' })).toThrow(/DATABASE_URL must be a postgres/);
    expect(loadConfig({ DATABASE_URL: 'postgres://spectro@db:5432/spectro' }).databaseUrl).toBe('postgres://spectro@db:5432/spectro');
  });

  test('the SQLite commit mode and inline decoding: fsync per commit and inline by default, each can be changed, a typo refused', () => {
    expect(loadConfig({})).toMatchObject({ sqliteSynchronous: 'full', decodeInline: true });
    expect(loadConfig({ SQLITE_SYNCHRONOUS: 'NORMAL', DECODE_INLINE: 'off' })).toMatchObject({ sqliteSynchronous: 'normal', decodeInline: false });
    expect(() => loadConfig({ SQLITE_SYNCHRONOUS: 'off' })).toThrow(/SQLITE_SYNCHRONOUS must be one of full, normal/);
  });

  test('upstreams and their credentials are read from UPSTREAMS and UPSTREAM_<NAME>_*', () => {
    const config = loadConfig({ UPSTREAMS: 'plant2=http://10.0.0.2:4000', UPSTREAM_PLANT2_CLIENT_ID: 'a', UPSTREAM_PLANT2_CLIENT_SECRET: 'b' });
    expect(config.upstreams).toEqual({ plant2: 'http://10.0.0.2:4000' });
    expect(config.upstreamCredentials.plant2).toEqual({ clientId: 'a', clientSecret: 'b' });
  });
});
