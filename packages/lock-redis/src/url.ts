import { ConfigError } from '@baton/core';
import type { RedisOptions } from 'ioredis';

/**
 * ioredis options for a `redis://` / `rediss://` URL, read as ioredis reads it — host, port,
 * `user:password@`, `/db`, query options (`?family=6`) — so that baton can add options of its
 * own (its connector, TLS settings) to a connection given as a URL.
 * @throws ConfigError (`url`) when it is not such a URL.
 */
export function redisOptionsFromUrl(url: string): RedisOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw new ConfigError('url', 'must be a redis:// or rediss:// URL', { cause: error });
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') throw new ConfigError('url', `must be a redis:// or rediss:// URL, got ${parsed.protocol}//`);
  const options: Record<string, unknown> = {};
  for (const [key, value] of parsed.searchParams) options[key] = key === 'family' && /^\d+$/.test(value) ? Number(value) : value;
  if (parsed.hostname) options.host = parsed.hostname.replace(/^\[(.+)\]$/, '$1');
  if (parsed.port) options.port = Number(parsed.port);
  if (parsed.username) options.username = decodeURIComponent(parsed.username);
  if (parsed.password) options.password = decodeURIComponent(parsed.password);
  const db = parsed.pathname.slice(1);
  if (db !== '') {
    if (!/^\d+$/.test(db)) throw new ConfigError('url', `the path must be a database number, got "/${db}"`);
    options.db = Number(db);
  }
  if (parsed.protocol === 'rediss:') options.tls = {};
  return options as RedisOptions;
}
