import { AbortedError, ConfigError } from '@baton/core';
import type { Clock, NativeAttempt, NativeSemaphore, NativeTryOptions, WatchHandlers } from '@baton/core';
import { AdvisoryHold } from './advisory-hold.ts';
import { toLockError } from './errors.ts';
import type { SemaphoreStatements } from './semaphore-sql.ts';
import type { SessionConnection } from './session.ts';

/** What a {@link PostgresSemaphore} needs from its factory. */
export interface SemaphoreHost {
  readonly clock: Clock;
  readonly semaphoreStatements: SemaphoreStatements;
  readonly channel: string;
  sessionFor(key: bigint): SessionConnection;
  ready(signal: AbortSignal | undefined): Promise<void>;
  keyOf(name: string): bigint;
  describe(name: string): string;
  /** Slot keys this process holds, for the semaphore whose first slot is `key` (one set per key). */
  localSlots(key: bigint): Set<bigint>;
  watch(key: bigint, handlers: WatchHandlers): () => void;
  onSessionLost(session: SessionConnection, generation: number, listener: (reason: Error) => void): () => void;
}

/**
 * A counting semaphore on PostgreSQL advisory locks (statements in semaphore-sql.ts): a permit
 * is one of `permits` slot locks, held on the factory's session connection, so a crashed
 * holder's permit goes with its session; one statement takes a slot and bumps the token
 * counter. A process's own permits may share a session, where PostgreSQL would grant a slot
 * twice; the process's book of slots keeps them apart. Releases NOTIFY the waiters.
 */
export class PostgresSemaphore implements NativeSemaphore {
  private readonly host: SemaphoreHost;
  private readonly slotKeys: bigint[];
  private readonly counter: string;
  private readonly permits: number;
  private readonly description: string;
  private readonly held: Set<bigint>;

  constructor(host: SemaphoreHost, name: string, permits: number) {
    this.host = host;
    this.permits = permits;
    this.slotKeys = Array.from({ length: permits }, (_, i) => host.keyOf(`${name}.permit-slot-${i}`));
    this.counter = `${name}.permit-tokens`;
    this.description = `${host.describe(name)} (semaphore)`;
    this.held = host.localSlots(this.slotKeys[0]!);
  }

  async tryAcquire(identity: string, leaseDurationMs: number, options?: NativeTryOptions): Promise<NativeAttempt> {
    // From a random slot on, so processes spread over the slots.
    const start = Math.floor(Math.random() * this.permits);
    const slots = [...this.slotKeys.slice(start), ...this.slotKeys.slice(0, start)].filter((key) => !this.held.has(key));
    if (slots.length === 0) return { granted: false, retryInMs: Number.POSITIVE_INFINITY };
    await this.host.ready(options?.signal);
    const session = this.host.sessionFor(this.slotKeys[0]!);
    const generation = await session.open();
    for (const key of slots) this.held.add(key); // no other local try on these meanwhile
    let row: { slot: string | null; token: string | null; permits: string | null };
    try {
      [row] = (await session.query(generation, this.host.semaphoreStatements.acquire, [slots, this.counter, this.permits])) as [typeof row];
    } catch (error) {
      for (const key of slots) this.held.delete(key);
      throw toLockError(error, this.description);
    }
    const slot = row.slot === null ? undefined : BigInt(row.slot);
    for (const key of slots) if (key !== slot) this.held.delete(key);
    if (slot === undefined) return { granted: false, retryInMs: Number.POSITIVE_INFINITY };
    const hold = new AdvisoryHold(this.site(session, generation, slot), identity, Number(row.token), leaseDurationMs);
    if (Number(row.permits) !== this.permits) {
      await hold.close();
      throw new ConfigError('permits', `${this.description} is in use with permits = ${String(row.permits)}, this process asks for ${this.permits}; every process must agree`);
    }
    if (options?.signal?.aborted) {
      await hold.close(); // the caller gave up while the statement ran
      throw new AbortedError(`${this.description}: aborted`, { cause: options.signal.reason });
    }
    return { granted: true, hold, snapshot: hold.snapshot };
  }

  watch(handlers: WatchHandlers): () => void {
    return this.host.watch(this.slotKeys[0]!, handlers);
  }

  private site(session: SessionConnection, generation: number, slot: bigint) {
    const { semaphoreStatements, channel, clock } = this.host;
    return {
      session,
      generation,
      clock,
      description: `${this.description} permit`,
      renewStatement: 'SELECT 1',
      unlock: async () => {
        await session.query(generation, semaphoreStatements.release, [slot, channel, String(this.slotKeys[0])]);
      },
      ended: () => void this.held.delete(slot),
      onSessionLost: (listener: (reason: Error) => void) => this.host.onSessionLost(session, generation, listener),
    };
  }
}
