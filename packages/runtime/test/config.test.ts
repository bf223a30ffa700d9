import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ConfigValidationError, loadConfig, type LoadConfigOptions } from '../src/config/load.ts';
import { createConfigSchema } from '../src/config/schema.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'baton-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

async function problems(options: LoadConfigOptions): Promise<string[]> {
  try {
    await loadConfig({ env: {}, ...options });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigValidationError);
    return (error as Error).message.split('\n').slice(1).map((line) => line.trim());
  }
  throw new Error('expected the configuration to be rejected');
}

describe('loadConfig', () => {
  it('reads a YAML file and fills in defaults, durations in ms', async () => {
    const path = await file('ok.yaml', 'backend: redis\nleaderElectionID: jobs\nleaseDuration: 20s\nredis:\n  keyPrefix: "app:"\n');
    const { config, file: read, baseDir } = await loadConfig({ file: path, env: {} });
    expect(read).toBe(path);
    expect(baseDir).toBe(dir);
    expect(config).toMatchObject({
      backend: 'redis',
      leaderElectionID: 'jobs',
      leaseDuration: 20_000,
      renewDeadline: 10_000,
      retryPeriod: 2_000,
      gracePeriod: 10_000,
      releaseOnCancel: true,
      leaderElection: true,
      redis: { url: 'redis://127.0.0.1:6379', keyPrefix: 'app:' },
      http: { enabled: true, port: 4040, host: '0.0.0.0', healthTolerance: 20_000 },
      log: { level: 'info', format: 'json' },
    });
  });

  it('reads JSON too', async () => {
    const path = await file('ok.json', JSON.stringify({ backend: 'memory', leaderElectionID: 'x', retryPeriod: 500 }));
    const { config } = await loadConfig({ file: path, env: {} });
    expect(config).toMatchObject({ backend: 'memory', retryPeriod: 500 });
  });

  it('defaults the backend to lease and reads $BATON_CONFIG', async () => {
    const path = await file('env-file.yaml', 'leaderElectionID: from-env-file\n');
    const { config } = await loadConfig({ env: { BATON_CONFIG: path } });
    expect(config.backend).toBe('lease');
    expect(config.leaderElectionID).toBe('from-env-file');
    expect(config.kubernetes).toEqual({});
  });

  it('layers file < BATON_* variables < flags', async () => {
    const path = await file('layers.yaml', 'backend: memory\nleaderElectionID: file\nnamespace: file-ns\nhttp: {port: 1111}\n');
    const { config, sourceOf } = await loadConfig({
      file: path,
      env: { BATON_LEADER_ELECTION_ID: 'env', BATON_NAMESPACE: 'env-ns', BATON_HTTP_PORT: '2222', BATON_RELEASE_ON_CANCEL: 'false' },
      flags: { id: 'flag', port: '3333', 'lease-duration': '30s', 'renew-deadline': '20s' },
    });
    expect(config).toMatchObject({ leaderElectionID: 'flag', namespace: 'env-ns', releaseOnCancel: false, leaseDuration: 30_000 });
    expect(config.http.port).toBe(3333);
    expect(sourceOf('leaderElectionID')).toEqual({ kind: 'flag', name: 'id' });
    expect(sourceOf('namespace')).toEqual({ kind: 'env', name: 'BATON_NAMESPACE' });
    expect(sourceOf('backend')).toMatchObject({ kind: 'file', path, line: 1, col: 10 });
  });

  it('puts --url in the selected backend section', async () => {
    const redis = await loadConfig({ env: {}, flags: { backend: 'redis', id: 'x', url: 'redis://10.0.0.1:6380' } });
    expect(redis.config.redis?.url).toBe('redis://10.0.0.1:6380');
    const postgres = await loadConfig({ env: { BATON_URL: 'postgres://u@h/db' }, flags: { backend: 'postgres', id: 'x' } });
    expect(postgres.config.postgres?.url).toBe('postgres://u@h/db');
    const lease = await loadConfig({ env: {}, flags: { backend: 'lease', id: 'x', url: 'https://10.0.0.1:6443' } });
    expect(lease.config.kubernetes?.url).toBe('https://10.0.0.1:6443');
    expect(await problems({ flags: { backend: 'memory', id: 'x', url: 'redis://h' } })).toEqual(['flag --url: url: the memory backend takes no URL']);
  });

  it('names the field, the file, the line and the column of each problem', async () => {
    const path = await file(
      'bad.yaml',
      ['backend: memory', 'leaderElectionID: x', 'renewDeadline: 10x', 'http:', '  port: abc', 'log: {format: xml}'].join('\n'),
    );
    expect(await problems({ file: path })).toEqual([
      `${path}:3:16: renewDeadline: "10x" is not a duration (examples: "15s", "500ms", "1m30s", or milliseconds as a number)`,
      `${path}:5:9: http.port: expected a number, got string "abc"`,
      `${path}:6:15: log.format: must be one of: json, pretty; got "xml"`,
    ]);
  });

  it('says what a union-typed field takes and what it got, never "Invalid input"', async () => {
    const duration = 'expected a duration such as "15s" or a number of milliseconds';
    const path = await file(
      'unions.yaml',
      [
        'backend: memory',
        'leaderElectionID: x',
        'leaseDuration: true',
        'gracePeriod: [1, 2]',
        'giveUpAfter:',
        'http: {healthTolerance: {s: 1}}',
        'kubernetes: {leaderPodLabel: 3}',
        'postgres: {sessionTimeout: false}',
        'etcd: {operationTimeout: true, session: 5}',
      ].join('\n'),
    );
    expect(await problems({ file: path })).toEqual([
      `${path}:3:16: leaseDuration: ${duration}, got boolean true`,
      `${path}:4:14: gracePeriod: ${duration}, got a list [1,2]`,
      `${path}:5:13: giveUpAfter: ${duration}, got null (an empty value)`,
      `${path}:6:25: http.healthTolerance: ${duration}, got a mapping {"s":1}`,
      `${path}:7:30: kubernetes.leaderPodLabel: expected true, false or a label key such as "example.com/leader", got number 3`,
      `${path}:8:28: postgres.sessionTimeout: ${duration}, got boolean false`,
      `${path}:9:41: etcd.session: expected true, false or a mapping such as {ttl: "30s"}, got number 5`,
      `${path}:9:26: etcd.operationTimeout: ${duration}, got boolean true`,
    ]);
    // The right type for one branch (a mapping for etcd.session): the problem inside it, at its own field.
    const ttl = await file('ttl.yaml', 'backend: memory\nleaderElectionID: x\netcd:\n  session: {ttl: true}\n');
    expect(await problems({ file: ttl })).toEqual([`${ttl}:4:18: etcd.session.ttl: ${duration}, got boolean true`]);
    const code = await problems({ values: { backend: 'memory', leaderElectionID: 'x', retryPeriod: true as never } });
    expect(code).toEqual([`configuration passed in code: retryPeriod: ${duration}, got boolean true`]);
  });

  it('names the type of a wrong value for plain fields too', async () => {
    const path = await file('types.yaml', 'backend: memory\nleaderElectionID: x\nnamespace: 5\nhttp: 80\nredis: {cluster: a}\nwatch: "yes"\n');
    expect(await problems({ file: path })).toEqual([
      `${path}:3:12: namespace: expected a string, got number 5`,
      `${path}:6:8: watch: expected true or false, got string "yes"`,
      `${path}:4:7: http: expected a mapping, got number 80`,
      `${path}:5:18: redis.cluster: expected a list, got string "a"`,
    ]);
  });

  it('lists the valid backends for a wrong one', async () => {
    const path = await file('backend.yaml', 'backend: mongo\nleaderElectionID: x\n');
    expect(await problems({ file: path })).toEqual([
      `${path}:1:10: backend: unknown backend "mongo"; valid backends: lease, endpoints, configmap, redis, postgres, etcd, memory`,
    ]);
  });

  it('rejects unknown fields, suggesting the closest known one', async () => {
    const path = await file('typo.yaml', 'backend: memory\nleaderElectionID: x\nleaseDurration: 10s\nredis:\n  urll: redis://x\n');
    expect(await problems({ file: path })).toEqual([
      `${path}:5:3: redis.urll: unknown field (did you mean "url"?)`,
      `${path}:3:1: leaseDurration: unknown field (did you mean "leaseDuration"?)`,
    ]);
  });

  it('says a required field is missing, and where it belongs', async () => {
    const path = await file('missing.yaml', 'backend: memory\n');
    expect(await problems({ file: path })).toEqual([
      `${path}: leaderElectionID: is required: name the lock (config file, BATON_LEADER_ELECTION_ID or --id)`,
    ]);
    expect(await problems({ flags: { backend: 'memory', id: '' } })).toEqual(['flag --id: leaderElectionID: must not be empty']);
  });

  it('checks the timings against each other', async () => {
    expect(await problems({ flags: { backend: 'memory', id: 'x', 'lease-duration': '1s', 'renew-deadline': '2s' } })).toEqual([
      'flag --lease-duration: leaseDuration: must be greater than renewDeadline (1000 ms <= 2000 ms)',
    ]);
    expect(await problems({ flags: { backend: 'memory', id: 'x', 'renew-deadline': '1s', 'retry-period': '1s' } })).toEqual([
      'flag --renew-deadline: renewDeadline: must be greater than 1.2 × retryPeriod (1000 ms <= 1200 ms)',
    ]);
  });

  it('reports unreadable and malformed files', async () => {
    const missing = join(dir, 'nope.yaml');
    expect(await problems({ file: missing })).toEqual([`${missing}: cannot read the configuration file: no such file`]);
    expect(await problems({ file: dir })).toEqual([`${dir}: cannot read the configuration file: is a directory`]);
    const broken = await file('broken.yaml', 'backend: [memory\nid: 2\n');
    const [problem] = await problems({ file: broken });
    expect(problem).toMatch(new RegExp(`^${broken}:2:1: not valid YAML or JSON: `));
    const scalar = await file('scalar.yaml', '42\n');
    expect(await problems({ file: scalar })).toEqual([
      `${scalar}: the configuration file must hold a mapping (key: value lines, or a JSON object)`,
    ]);
    const duplicate = await file('dup.yaml', 'backend: memory\nbackend: redis\n');
    expect((await problems({ file: duplicate }))[0]).toMatch(/:2:1: not valid YAML or JSON: Map keys must be unique/);
  });

  it('reports environment variables and flags of the wrong type by name', async () => {
    expect(
      await problems({ env: { BATON_HTTP_PORT: 'eighty', BATON_RELEASE_ON_CANCEL: 'maybe' }, flags: { port: '-1', backend: 'memory', id: 'x' } }),
    ).toEqual([
      'environment variable BATON_RELEASE_ON_CANCEL: releaseOnCancel: expected true or false, got "maybe"',
      'environment variable BATON_HTTP_PORT: http.port: expected a whole number, got "eighty"',
      'flag --port: http.port: expected a whole number, got "-1"',
    ]);
  });

  it('accepts application backends and their free-form sections', async () => {
    const path = await file('custom.yaml', 'backend: consul\nleaderElectionID: x\nconsul:\n  endpoints: [a, b]\n');
    const { config } = await loadConfig({ file: path, env: {}, backends: ['memory', 'consul'], sections: ['consul'], sectionOf: { consul: 'consul' } });
    expect(config.backend).toBe('consul');
    expect((config as Record<string, unknown>).consul).toEqual({ endpoints: ['a', 'b'] });
  });

  it('takes values from code below the file', async () => {
    const path = await file('over-code.yaml', 'leaderElectionID: from-file\n');
    const { config, sourceOf } = await loadConfig({ file: path, env: {}, values: { backend: 'memory', leaderElectionID: 'code', retryPeriod: '1s' } });
    expect(config).toMatchObject({ backend: 'memory', leaderElectionID: 'from-file', retryPeriod: 1_000 });
    expect(sourceOf('retryPeriod')).toEqual({ kind: 'code' });
  });

  it('reads the etcd section: members, TLS files, session, and rejects what is not a URL list', async () => {
    const path = await file('etcd.yaml', 'backend: etcd\nleaderElectionID: x\netcd:\n  url: http://a:2379,https://b:2379\n  tls: {ca: ca.pem}\n  session: {ttl: 10s}\n');
    const { config } = await loadConfig({ file: path, env: {} });
    expect((config as Record<string, unknown>).etcd).toEqual({ url: 'http://a:2379,https://b:2379', tls: { ca: 'ca.pem' }, session: { ttl: 10_000 } });
    const bad = await file('etcd-bad.yaml', 'backend: etcd\nleaderElectionID: x\netcd:\n  url: etcd-0:2379\n');
    await expect(loadConfig({ file: bad, env: {} })).rejects.toThrow(/etcd\.url: must be http:\/\/ or https:\/\/ URLs, comma-separated/);
  });

  it('exposes the schema for other tools', () => {
    const schema = createConfigSchema();
    expect(schema.safeParse({ backend: 'memory', leaderElectionID: 'x' }).success).toBe(true);
    expect(schema.safeParse({ backend: 'nope', leaderElectionID: 'x' }).success).toBe(false);
  });
});
