import { BackendUnavailableError, ConfigError, LockNotFoundError } from '@baton/core';
import type { LockCallOptions, NativeAttempt, NativeReadWrite, NativeWriteAttempt, WatchHandlers } from '@baton/core';
import { PrimitiveHold } from './primitive-hold.ts';
import type { HoldPlace } from './primitive-hold.ts';
import { runPrimitiveScript } from './primitive-scripts.ts';
import type { PrimitiveScript } from './primitive-scripts.ts';
import { count, primitiveKeys } from './redis-semaphore.ts';
import type { PrimitiveKeys } from './redis-semaphore.ts';
import type { RedisSession } from './session.ts';

/**
 * A reader-writer lock in Redis (scripts in `scripts/read-write.lua.ts`): reads are members of
 * a holder set, the writer's place is a field of the lock's hash with its own expiry, and each
 * try is one script, so a read and a write never both win. A writer takes its place first
 * (new reads are refused from then on: writer preference), then waits for the reads already
 * held to end. Write tokens come from the hash's counter; a read carries the last one as its
 * write epoch. Releases publish on the lock's channel. See `NativePrimitives` for the rules.
 */
export class RedisReadWrite implements NativeReadWrite {
  private readonly session: RedisSession;
  private readonly keys: PrimitiveKeys;
  private readonly maxReaders: string;
  private readonly description: string;
  private readonly readPlace: HoldPlace;
  private readonly writePlace: HoldPlace;

  constructor(session: RedisSession, name: string, maxReaders: number) {
    this.session = session;
    this.keys = primitiveKeys(session.options.keyPrefix, name, 'rw');
    this.maxReaders = String(maxReaders);
    this.description = `redis reader-writer lock ${session.client.options.keyPrefix ?? ''}${this.keys.hash}`;
    const { hash, holders, channel } = this.keys;
    this.readPlace = { session, description: `${this.description} read`, keys: [holders], channel, renew: 'holderRenew', release: 'holderRelease', get: 'holderGet' };
    this.writePlace = { session, description: `${this.description} write`, keys: [hash], channel, renew: 'writeRenew', release: 'writeRelease', get: 'writeGet' };
  }

  tryRead(identity: string, leaseDurationMs: number, options?: LockCallOptions): Promise<NativeAttempt> {
    const backstop = String(Math.ceil(leaseDurationMs * this.session.options.expiryFactor));
    return this.run('read', 'readAcquire', [identity, String(leaseDurationMs), this.maxReaders, backstop], options, (status, reply) => {
      if (status !== 'ok') return undefined;
      const hold = new PrimitiveHold(this.readPlace, identity, count(reply[1], 'write counter', this.description), leaseDurationMs);
      return { granted: true, hold, snapshot: hold.snapshot };
    });
  }

  tryWrite(identity: string, leaseDurationMs: number, options?: LockCallOptions): Promise<NativeWriteAttempt> {
    return this.run('write', 'writeAcquire', [identity, String(leaseDurationMs), this.maxReaders], options, (status, reply) => {
      if (status !== 'ok') return undefined;
      const hold = new PrimitiveHold(this.writePlace, identity, count(reply[1], 'write counter', this.description), leaseDurationMs);
      return {
        granted: true,
        hold,
        snapshot: hold.snapshot,
        readers: count(reply[2], 'reader count', this.description),
        retryInMs: count(reply[3], 'expiry', this.description),
      };
    });
  }

  readers(writer: string, options?: LockCallOptions): Promise<{ readers: number; retryInMs: number }> {
    const { hash, holders } = this.keys;
    return this.session.exec(this.description, 'count readers', options?.signal, async (client) => {
      const reply = await runPrimitiveScript(client, 'writeReaders', [hash, holders], [writer]);
      const r = (Array.isArray(reply) ? reply : []) as unknown[];
      if (r[0] === 'gone') throw new LockNotFoundError(`${this.description}: "${writer}" no longer holds the writer's place`);
      if (r[0] !== 'ok') throw new BackendUnavailableError(`${this.description}: unexpected reply from Redis: ${JSON.stringify(reply)}`);
      return { readers: count(r[1], 'reader count', this.description), retryInMs: count(r[2], 'expiry', this.description) };
    });
  }

  watch(handlers: WatchHandlers): () => void {
    return this.session.watch(this.keys.channel, this.description, handlers);
  }

  /** One try (a read or a write): `granted` decodes a grant; refusals and shape errors are common to both. */
  private run<T>(
    what: string,
    script: PrimitiveScript,
    args: string[],
    options: LockCallOptions | undefined,
    granted: (status: unknown, reply: unknown[]) => T | undefined,
  ): Promise<T | { granted: false; retryInMs: number }> {
    const { hash, holders } = this.keys;
    return this.session.exec(
      this.description,
      what,
      options?.signal,
      async (client) => {
        const reply = await runPrimitiveScript(client, script, [hash, holders], args);
        const r = (Array.isArray(reply) ? reply : []) as unknown[];
        const grant = granted(r[0], r);
        if (grant !== undefined) return grant;
        if (r[0] === 'writer' || r[0] === 'full') return { granted: false as const, retryInMs: count(r[1], 'expiry', this.description) };
        if (r[0] === 'shape') {
          throw new ConfigError('maxReaders', `${this.description} is in use with maxReaders = ${String(r[1])}, this process asks for ${this.maxReaders}; every process must agree`);
        }
        throw new BackendUnavailableError(`${this.description}: unexpected reply from Redis: ${JSON.stringify(reply)}`);
      },
      // No channel: core's waiter notes the wake-ups it has seen before each try.
    );
  }
}
