import type { HeldLease } from './held-lease.ts';
import type { LazyAbort } from './lazy-abort.ts';
import { LockHandle } from './lock-handle.ts';
import type { LockSnapshot } from './resource-lock.ts';

/**
 * A read held on a {@link DistributedReadWriteLock}. Its `fencingToken` is its
 * {@link ReadHandle.writeEpoch}: the writer record's token when this read was granted, the
 * same for every read granted between two writers. Every write term granted after this read
 * carries a larger token; the epoch may also count a writer that took the writer record and
 * gave up waiting for readers before writing.
 */
export class ReadHandle extends LockHandle {
  /** The writer record's token when this read was granted (0: no writer yet). Any later write term carries a larger one. */
  readonly writeEpoch: number;

  /** @internal */
  constructor(name: string, lease: HeldLease, ended: LazyAbort, onReleased: (released: LockSnapshot | undefined) => void, writeEpoch: number) {
    super(name, lease, ended, onReleased, writeEpoch);
    this.writeEpoch = writeEpoch;
  }
}
