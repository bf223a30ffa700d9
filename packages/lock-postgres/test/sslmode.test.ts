/**
 * `sslmode=require` in a connection string: checked as pg 8 checks it (like verify-full), and
 * without pg's SECURITY WARNING on stderr (issue 17).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@jest/globals';
import { explicitSslMode } from '../src/options.ts';

test('prefer, require and verify-ca are spelled out as the verify-full pg 8 applies; anything else is left alone', () => {
  for (const mode of ['prefer', 'require', 'verify-ca']) {
    const url = new URL(explicitSslMode(`postgres://u:p@db.example:5432/app?sslmode=${mode}&application_name=x`));
    expect(url.searchParams.get('sslmode')).toBe('verify-full');
    expect(url.searchParams.get('application_name')).toBe('x');
    expect(url.username).toBe('u');
  }
  for (const kept of [
    'postgres://db.example/app?sslmode=disable',
    'postgres://db.example/app?sslmode=verify-full',
    'postgres://db.example/app?sslmode=require&uselibpqcompat=true',
    'postgres://db.example/app',
    'host=db.example sslmode=require',
  ]) {
    expect(explicitSslMode(kept)).toBe(kept);
  }
});

test('a factory built from sslmode=require prints no security warning when it connects', () => {
  const fixture = fileURLToPath(new URL('./fixtures/sslmode-require.ts', import.meta.url));
  const child = spawnSync(process.execPath, [fixture], { encoding: 'utf8', timeout: 20_000 });
  expect(child.status).toBe(0);
  expect(child.stderr).not.toMatch(/SECURITY WARNING/);
});
