import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A key prefix of this test run's own, so its keys (fencing counters never expire) can be removed. */
export function runKeyPrefix(label: string): string {
  return `baton-${label}-${process.pid}-${randomBytes(3).toString('hex')}:`;
}

/** Deletes every key under `prefix` on the local Redis. */
export async function deleteRedisKeys(prefix: string): Promise<void> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', '6379', '--scan', '--pattern', `${prefix}*`]);
  const keys = stdout.split('\n').filter(Boolean);
  for (let i = 0; i < keys.length; i += 500) await run('redis-cli', ['-h', '127.0.0.1', '-p', '6379', 'DEL', ...keys.slice(i, i + 500)]);
}
