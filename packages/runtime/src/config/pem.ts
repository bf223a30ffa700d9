import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '@baton/core';

/** What a file system error means to someone who named the file. */
const REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'is a directory',
  ENOTDIR: 'a part of the path is not a directory',
};

/**
 * Reads a PEM file a backend's `tls` block names (`field`: `tls.ca`, …), relative to
 * `baseDir` (the configuration file's directory; paths from flags and the environment arrive
 * absolute). One way for every backend, so a missing, unreadable or non-PEM file is one clear
 * configuration error (exit code 2), never a stack trace or a retried connection failure.
 * @throws ConfigError naming the field, the path and what is wrong with it.
 */
export function readPemFile(field: string, path: unknown, baseDir: string): Buffer | undefined {
  if (path === undefined) return undefined;
  if (typeof path !== 'string' || path === '') throw new ConfigError(field, 'must be the path of a PEM file');
  const full = resolve(baseDir, path);
  let contents: Buffer;
  try {
    contents = readFileSync(full);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    throw new ConfigError(field, `cannot read ${describe(path, full)}: ${REASONS[code] ?? (error as Error).message}`, { cause: error });
  }
  if (!contents.includes('-----BEGIN ')) throw new ConfigError(field, `${describe(path, full)} is not a PEM file (no "-----BEGIN" line)`);
  return contents;
}

/** The `{ ca, cert, key }` PEM files of a backend's `tls` block, read; undefined when there is no block. */
export function readTlsFiles(tls: unknown, baseDir: string): { ca?: Buffer; cert?: Buffer; key?: Buffer } | undefined {
  if (tls === undefined) return undefined;
  if (typeof tls !== 'object' || tls === null) throw new ConfigError('tls', 'must be an object: { ca, cert, key }');
  const files = tls as Record<string, unknown>;
  const read = { ca: readPemFile('tls.ca', files.ca, baseDir), cert: readPemFile('tls.cert', files.cert, baseDir), key: readPemFile('tls.key', files.key, baseDir) };
  return Object.fromEntries(Object.entries(read).filter(([, value]) => value !== undefined));
}

function describe(path: string, full: string): string {
  return path === full ? path : `${path} (${full})`;
}
