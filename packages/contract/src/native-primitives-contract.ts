import { afterEach, describe } from '@jest/globals';
import { DistributedLocks } from '@baton/core';
import type { NativeAttempt, NativePrimitives, ResourceLock, ResourceLockFactory } from '@baton/core';
import { describeReadWriteContract } from './rw-contract.ts';
import type { PrimitiveSuite } from './semaphore-contract.ts';
import { describeSemaphoreContract } from './semaphore-contract.ts';
import type { Suite, Timings } from './suite.ts';

type Wrap = (lock: ResourceLock) => ResourceLock;

/** A granted unit's hold goes through `wrap` too, so a test can cut a holder off. */
function wrapAttempt<A extends NativeAttempt>(attempt: A, wrap: Wrap): A {
  return attempt.granted ? { ...attempt, hold: wrap(attempt.hold) } : attempt;
}

/** The factory's primitives with every hold they grant passed through `wrap`. */
function wrapPrimitives(primitives: NativePrimitives, wrap: Wrap): NativePrimitives {
  const wrapped: NativePrimitives = {};
  if (primitives.semaphore) {
    const make = primitives.semaphore.bind(primitives);
    wrapped.semaphore = (name, permits) => {
      const inner = make(name, permits);
      return {
        tryAcquire: async (identity, leaseMs, options) => wrapAttempt(await inner.tryAcquire(identity, leaseMs, options), wrap),
        watch: (handlers) => inner.watch(handlers),
      };
    };
  }
  if (primitives.readWrite) {
    const make = primitives.readWrite.bind(primitives);
    wrapped.readWrite = (name, maxReaders) => {
      const inner = make(name, maxReaders);
      return {
        tryRead: async (identity, leaseMs, options) => wrapAttempt(await inner.tryRead(identity, leaseMs, options), wrap),
        tryWrite: async (identity, leaseMs, options) => wrapAttempt(await inner.tryWrite(identity, leaseMs, options), wrap),
        readers: (writer, options) => inner.readers(writer, options),
        watch: (handlers) => inner.watch(handlers),
      };
    };
  }
  return wrapped;
}

/**
 * The semaphore and reader-writer sections again, on the backend's native primitives
 * (`ResourceLockFactory.primitives`) when the target offers a factory that has them: each
 * `locksFor` is a process of its own, with its own factory.
 */
export function describeNativePrimitivesContract(suite: Suite): void {
  const { target } = suite;
  const createFactory = target.createFactory;
  if (!createFactory) return;
  const factories: ResourceLockFactory[] = [];
  const lockSets: DistributedLocks[] = [];
  const locksFor = (identity: string, wrap: Wrap = (lock) => lock, timings: Timings = suite.timings): DistributedLocks => {
    const factory = createFactory();
    factories.push(factory);
    if (!factory.primitives) throw new Error(`${target.name}: createFactory() made a factory without primitives`);
    const locks = new DistributedLocks({
      identity,
      leaseDuration: timings.leaseDurationMs,
      renewDeadline: timings.renewDeadlineMs,
      retryPeriod: timings.retryPeriodMs,
      factory: {
        lock: async (name, id) => wrap(await factory.lock(name, id)),
        close: () => factory.close(),
        primitives: wrapPrimitives(factory.primitives, wrap),
      },
    });
    lockSets.push(locks);
    return locks;
  };
  const native: PrimitiveSuite = { target, timings: suite.timings, uniqueName: suite.uniqueName, locksFor, native: true };
  // Which primitives the backend has natively (asked of a factory that is closed at once).
  const probe = createFactory();
  const has = { semaphore: Boolean(probe.primitives?.semaphore), readWrite: Boolean(probe.primitives?.readWrite) };
  void probe.close();
  describe('native primitives', () => {
    afterEach(async () => {
      for (const locks of lockSets.splice(0)) locks.close();
      await Promise.all(factories.splice(0).map((factory) => factory.close()));
    });
    if (has.semaphore) describeSemaphoreContract(native);
    if (has.readWrite) describeReadWriteContract(native);
  });
}
