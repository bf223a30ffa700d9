import { ConfigError, type Logger, type ResourceLock } from '@baton/core';
import { ContainerModule } from 'inversify';
import { RedisLockFactory } from './factory.ts';
import type { RedisConnectionOptions } from './options.ts';

// The binding contract of `@baton/cli` (its registry.ts), declared here structurally so this
// package does not depend on the CLI: two `Symbol.for` keys and the shape of a backend. The
// CLI's type check verifies that this declaration still matches its own.
const LOCK_BACKEND = Symbol.for('baton.LockBackend');
const BACKEND_NAME = Symbol.for('baton.BackendName');

/** What `@baton/cli` resolves under `Symbol.for('baton.LockBackend')`, named after the backend. */
export interface RedisLockBackend {
  readonly name: string;
  readonly section?: string;
  readonly description?: string;
  open(options: Record<string, unknown>, context: { readonly logger: Logger }): {
    lock(name: string, identity: string): ResourceLock;
    close(): Promise<void>;
  };
}

/**
 * The `redis` backend. Options: `url` (default `redis://127.0.0.1:6379`; with `sentinel` or
 * `cluster` it only gives credentials and database), `keyPrefix`, and one of
 * `sentinel: { name, nodes: ["host:port", …], password? }` or `cluster: ["host:port", …]`.
 */
export const redisBackend: RedisLockBackend = {
  name: 'redis',
  description: 'Redis, Sentinel or Cluster (url: redis://host:6379)',
  open(options, { logger }) {
    const { url = 'redis://127.0.0.1:6379', keyPrefix } = options;
    if (typeof url !== 'string') throw new ConfigError('url', 'must be a redis:// URL');
    if (keyPrefix !== undefined && typeof keyPrefix !== 'string') throw new ConfigError('keyPrefix', 'must be a string');
    const factory = new RedisLockFactory({ connection: connectionOf(url, options), keyPrefix, logger });
    return { lock: (name, identity) => factory.lock(name, identity), close: () => factory.close() };
  },
};

/** The connection the `redis:` section describes: a URL, a Sentinel group, or Cluster startup nodes. */
function connectionOf(url: string, options: Record<string, unknown>): RedisConnectionOptions {
  const { sentinel, cluster } = options;
  if (sentinel !== undefined && cluster !== undefined) throw new ConfigError('cluster', 'give either sentinel or cluster, not both');
  if (sentinel === undefined && cluster === undefined) return url;
  const parsed = new URL(url);
  const credentials = {
    ...(parsed.username && { username: decodeURIComponent(parsed.username) }),
    ...(parsed.password && { password: decodeURIComponent(parsed.password) }),
    ...(parsed.protocol === 'rediss:' && { tls: {} }),
  };
  if (cluster !== undefined) {
    if (!Array.isArray(cluster) || cluster.length === 0) throw new ConfigError('cluster', 'must list startup nodes as "host:port"');
    return { cluster: cluster.map((node, i) => hostPort(node, `cluster[${i}]`)), options: { redisOptions: credentials } };
  }
  const { name, nodes, password } = (sentinel ?? {}) as Record<string, unknown>;
  if (typeof name !== 'string' || name === '') throw new ConfigError('sentinel.name', 'must name the master group');
  if (!Array.isArray(nodes) || nodes.length === 0) throw new ConfigError('sentinel.nodes', 'must list Sentinels as "host:port"');
  if (password !== undefined && typeof password !== 'string') throw new ConfigError('sentinel.password', 'must be a string');
  const db = parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : undefined;
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

/**
 * For `@baton/cli`'s inversify container: binds {@link redisBackend} under the name `redis`,
 * so `backend: redis` in baton's configuration selects it.
 */
export const redisContainerModule = new ContainerModule(({ bind }) => {
  bind(LOCK_BACKEND).toConstantValue(redisBackend).whenNamed(redisBackend.name);
  bind(BACKEND_NAME).toConstantValue(redisBackend.name);
});
