/**
 * Every built-in backend is loaded lazily through its container module and bound under its
 * name; the adapters themselves know nothing about inversify.
 */
import { describe, expect, it } from '@jest/globals';
import { Container } from 'inversify';
import { BUILTIN_BACKEND_MODULES } from '../src/backends/builtin.ts';
import { BACKEND_NAME, LOCK_BACKEND, type LockBackend } from '../src/registry.ts';

describe.each(Object.keys(BUILTIN_BACKEND_MODULES))('the container module of %s', (name) => {
  it('binds the backend under its name, and lists the name', async () => {
    const container = new Container();
    container.load(await BUILTIN_BACKEND_MODULES[name]!());
    const backend = container.get<LockBackend>(LOCK_BACKEND, { name });
    expect(backend.name).toBe(name);
    expect(backend.description).toEqual(expect.any(String));
    expect(container.getAll(BACKEND_NAME)).toEqual([name]);
  });
});

it('no adapter imports inversify or reflect-metadata', async () => {
  const { readFile, readdir } = await import('node:fs/promises');
  const packages = new URL('../../', import.meta.url);
  const offenders: string[] = [];
  for (const pkg of ['core', 'lock-lease', 'lock-endpoints', 'lock-redis', 'lock-postgres', 'lock-etcd', 'fencing']) {
    const manifest = JSON.parse(await readFile(new URL(`${pkg}/package.json`, packages), 'utf8')) as Record<string, Record<string, string> | undefined>;
    for (const field of ['dependencies', 'peerDependencies'] as const) {
      for (const dep of Object.keys(manifest[field] ?? {})) if (/inversify|reflect-metadata/.test(dep)) offenders.push(`${pkg}: ${field}.${dep}`);
    }
    const src = new URL(`${pkg}/src/`, packages);
    for (const file of await readdir(src, { recursive: true })) {
      if (!file.endsWith('.ts')) continue;
      if (/from '(inversify|reflect-metadata)|import '(reflect-metadata)/.test(await readFile(new URL(file, src), 'utf8'))) offenders.push(`${pkg}/src/${file}`);
    }
  }
  expect(offenders).toEqual([]);
});
