/**
 * @packageDocumentation
 * `@baton/fencing/redis` — writes to Redis that only land when their fencing token is
 * current.
 *
 * Each resource has a fence key (`<prefix>{<resource>}`) holding the highest token that has
 * written. A guarded write is ONE Lua script: it compares the writer's token with the fence,
 * raises the fence, and applies the write — or applies nothing and reports the token stale.
 * Redis runs scripts one at a time, so no write can slip between the check and the write.
 *
 * Redis Cluster: a script's keys must live in one hash slot. The fence key's hash tag is the
 * resource name, so name the keys a resource guards with the same tag
 * (`orders:{ledger}:balance` for resource `ledger`); otherwise Cluster answers CROSSSLOT,
 * reported as a ConfigError.
 */
import { createHash } from 'node:crypto';
import { BackendUnavailableError, BatonError, ConfigError, InvalidRecordError } from '@baton/core';
import type { Cluster, Redis } from 'ioredis';
import { StaleTokenError } from './errors.ts';
import { GUARDED_WRITE_LUA } from './redis-script.ts';
import { checkToken } from './token.ts';

/** A single-server, Sentinel or Cluster client of the user's. baton never closes it. */
export type RedisFenceClient = Redis | Cluster;

export interface RedisFenceOptions {
  /** Prepended to fence keys. Default `"baton:fence:"`. Must not contain `{` or `}`. */
  keyPrefix?: string;
}

/** Options of a guarded SET. */
export interface FencedSetOptions {
  /** Expire the key after this many milliseconds (SET … PX). */
  px?: number;
}

const SHA = createHash('sha1').update(GUARDED_WRITE_LUA).digest('hex');

/** Fenced writes to Redis: see the module documentation. */
export class RedisFence {
  private readonly client: RedisFenceClient;
  private readonly prefix: string;

  constructor(client: RedisFenceClient, options: RedisFenceOptions = {}) {
    const prefix = options.keyPrefix ?? 'baton:fence:';
    if (/[{}]/.test(prefix)) throw new ConfigError('keyPrefix', 'must not contain "{" or "}"');
    this.client = client;
    this.prefix = prefix;
  }

  /** The key holding `resource`'s highest token. */
  fenceKey(resource: string): string {
    if (resource === '' || /[{}]/.test(resource)) throw new ConfigError('resource', `"${resource}" must be non-empty and contain no "{" or "}"`);
    return `${this.prefix}{${resource}}`;
  }

  /** Raises the fence to `token` without writing anything else (a leader announcing its term). */
  async check(resource: string, token: number): Promise<void> {
    await this.run(resource, token, [], ['check']);
  }

  /** SET `key` to `value` if `token` is current for `resource`. */
  async set(resource: string, token: number, key: string, value: string, options: FencedSetOptions = {}): Promise<void> {
    const px = options.px;
    if (px !== undefined && (!Number.isSafeInteger(px) || px < 1)) throw new ConfigError('px', 'must be a positive integer of milliseconds');
    await this.run(resource, token, [key], ['set', value, px === undefined ? '' : String(px)]);
  }

  /** HSET `key` with `fields` if `token` is current for `resource`. */
  async hset(resource: string, token: number, key: string, fields: Readonly<Record<string, string | number>>): Promise<void> {
    const pairs = Object.entries(fields).flatMap(([field, value]) => [field, String(value)]);
    if (pairs.length === 0) throw new ConfigError('fields', 'give at least one field');
    await this.run(resource, token, [key], ['hset', ...pairs]);
  }

  /** DEL `keys` if `token` is current for `resource`. */
  async del(resource: string, token: number, ...keys: string[]): Promise<void> {
    if (keys.length === 0) throw new ConfigError('keys', 'give at least one key');
    await this.run(resource, token, keys, ['del']);
  }

  /** The highest token that has written to `resource`, 0 when none has. */
  async highestToken(resource: string): Promise<number> {
    const stored = await this.client.get(this.fenceKey(resource));
    return stored === null ? 0 : Number(stored);
  }

  /**
   * @throws StaleTokenError (nothing written); InvalidTokenError; ConfigError for keys in
   * different Cluster slots; InvalidRecordError when the fence key holds something else;
   * a BatonError `FENCING_WRITE_REFUSED` when Redis refused the write (WRONGTYPE, NOPERM);
   * BackendUnavailableError when Redis could not be reached.
   */
  private async run(resource: string, token: number, keys: readonly string[], args: readonly string[]): Promise<void> {
    checkToken(token);
    const allKeys = [this.fenceKey(resource), ...keys];
    const argv = [String(token), ...args];
    let reply: unknown;
    try {
      reply = await this.client.evalsha(SHA, allKeys.length, ...allKeys, ...argv).catch((error: unknown) => {
        if (!/NOSCRIPT/.test(String(error))) throw error;
        return this.client.eval(GUARDED_WRITE_LUA, allKeys.length, ...allKeys, ...argv);
      });
    } catch (error) {
      const message = String(error instanceof Error ? error.message : error);
      if (/CROSSSLOT/.test(message)) {
        throw new ConfigError('keys', `keys of resource "${resource}" must share its hash slot: tag them {${resource}}`, { cause: error });
      }
      if (/BATONFENCE/.test(message)) {
        throw new InvalidRecordError(`redis ${allKeys[0]}`, 'the fence key does not hold a token', { cause: error });
      }
      if ((error as { name?: unknown }).name === 'ReplyError') {
        // Redis refused the write itself (WRONGTYPE on a guarded key, an ACL denial): retrying will not help.
        throw new BatonError('FENCING_WRITE_REFUSED', `fenced write to "${resource}" refused by Redis: ${message}`, { cause: error });
      }
      throw new BackendUnavailableError(`fenced write to "${resource}" failed: ${message}`, { cause: error });
    }
    const [applied, highest] = reply as [number, string];
    if (applied !== 1) throw new StaleTokenError(resource, token, Number(highest));
  }
}
