import { ConfigError } from '@baton/core';
import type { RedisConnectionOptions } from './options.ts';
import { redisTlsOptions, type RedisTlsConfig } from './tls.ts';
import { redisOptionsFromUrl } from './url.ts';

/** A Redis connection as a configuration file describes it (baton's `redis:` section). */
export interface RedisConnectionConfig {
  /** `redis://[user:password@]host:port[/db]` or `rediss://`; with `sentinel` or `cluster` it gives only credentials, TLS and database. Default `redis://127.0.0.1:6379`. */
  url?: unknown;
  /** Redis Sentinel: `{ name, nodes: ["host:port", …], password? }`. */
  sentinel?: unknown;
  /** Redis Cluster startup nodes, `["host:port", …]`. */
  cluster?: unknown;
  /** TLS settings ({@link RedisTlsConfig}, PEM text). Turns TLS on, as `rediss://` does; verification stays on unless `insecureSkipVerify`. */
  tls?: unknown;
}

/**
 * The {@link RedisConnectionOptions} a configuration describes: a URL, a Sentinel group, or
 * Cluster startup nodes. For values read from a file or the environment (unchecked types).
 * @throws ConfigError naming the option (`url`, `cluster[0]`, `sentinel.name`, …).
 */
export function redisConnectionFromConfig(config: RedisConnectionConfig): RedisConnectionOptions {
  const { url = 'redis://127.0.0.1:6379', sentinel, cluster } = config;
  if (typeof url !== 'string') throw new ConfigError('url', 'must be a redis:// URL');
  if (sentinel !== undefined && cluster !== undefined) throw new ConfigError('cluster', 'give either sentinel or cluster, not both');
  const fromUrl = redisOptionsFromUrl(url);
  const tls = config.tls === undefined ? fromUrl.tls : redisTlsOptions(config.tls as RedisTlsConfig);
  if (sentinel === undefined && cluster === undefined) return config.tls === undefined ? url : { ...fromUrl, tls };
  const credentials = {
    ...(fromUrl.username !== undefined && { username: fromUrl.username }),
    ...(fromUrl.password !== undefined && { password: fromUrl.password }),
    ...(tls !== undefined && { tls }),
  };
  if (cluster !== undefined) {
    if (!Array.isArray(cluster) || cluster.length === 0) throw new ConfigError('cluster', 'must list startup nodes as "host:port"');
    return { cluster: cluster.map((node, i) => hostPort(node, `cluster[${i}]`)), options: { redisOptions: credentials } };
  }
  const { name, nodes, password } = (sentinel ?? {}) as Record<string, unknown>;
  if (typeof name !== 'string' || name === '') throw new ConfigError('sentinel.name', 'must name the master group');
  if (!Array.isArray(nodes) || nodes.length === 0) throw new ConfigError('sentinel.nodes', 'must list Sentinels as "host:port"');
  if (password !== undefined && typeof password !== 'string') throw new ConfigError('sentinel.password', 'must be a string');
  const db = fromUrl.db;
  return {
    name,
    sentinels: nodes.map((node, i) => hostPort(node, `sentinel.nodes[${i}]`)),
    ...(password !== undefined && { sentinelPassword: password }),
    ...(db !== undefined && Number.isInteger(db) && { db }),
    ...credentials,
  };
}

function hostPort(value: unknown, field: string): { host: string; port: number } {
  const match = typeof value === 'string' ? /^(?:rediss?:\/\/)?\[?([^\]]+?)\]?:(\d{1,5})\/?$/.exec(value) : null;
  if (!match) throw new ConfigError(field, `"${String(value)}" is not host:port`);
  return { host: match[1]!, port: Number(match[2]) };
}
