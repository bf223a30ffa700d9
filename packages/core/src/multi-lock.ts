import { ConfigError, LockConflictError } from './errors.ts';
import type { LeaderElectionRecord } from './record.ts';
import type { LockCallOptions, LockSnapshot, ResourceLock, WatchHandlers } from './resource-lock.ts';

/** The holder reported when the two locks disagree, as client-go's `UnknownLeader`. */
export const UNKNOWN_LEADER = 'leaderelection.k8s.io/unknown';

/**
 * Two locks written together, to migrate a fleet from one backend to another without two
 * leaders (client-go's `endpointsleases` / `configmapsleases`): first every replica runs a
 * MultiLock of (old, new); then, once none runs the old lock alone, the new lock alone.
 *
 * The primary (old) lock is authoritative. Reads return the primary's record; when the
 * secondary names another holder, the holder is reported as {@link UNKNOWN_LEADER}, so nobody
 * considers it theirs and the lease must expire first. Writes go to the primary first, then
 * the secondary (created when missing).
 */
export class MultiLock implements ResourceLock {
  readonly primary: ResourceLock;
  readonly secondary: ResourceLock;

  constructor(primary: ResourceLock, secondary: ResourceLock) {
    if (primary.identity !== secondary.identity) {
      throw new ConfigError('lock', `MultiLock: primary and secondary identities differ ("${primary.identity}" vs "${secondary.identity}")`);
    }
    this.primary = primary;
    this.secondary = secondary;
  }

  get identity(): string {
    return this.primary.identity;
  }

  describe(): string {
    return `multilock(${this.primary.describe()}, ${this.secondary.describe()})`;
  }

  async get(options?: LockCallOptions): Promise<LockSnapshot | null> {
    const [primary, secondary] = await Promise.all([this.primary.get(options), this.secondary.get(options)]);
    if (primary === null) {
      // Nothing under the old lock: a migrated fleet may only use the new one.
      return secondary && { ...secondary, version: encodeVersion(null, secondary.version) };
    }
    let record = primary.record;
    if (secondary !== null && secondary.record.holderIdentity !== record.holderIdentity) {
      record = { ...record, holderIdentity: UNKNOWN_LEADER };
    }
    return { record, version: encodeVersion(primary.version, secondary?.version ?? null) };
  }

  async create(record: LeaderElectionRecord, options?: LockCallOptions): Promise<LockSnapshot> {
    const primary = await this.primary.create(record, options);
    const secondary = await this.writeSecondary(withToken(record, primary), null, options);
    return { record: primary.record, version: encodeVersion(primary.version, secondary.version) };
  }

  async update(record: LeaderElectionRecord, expectedVersion: string, options?: LockCallOptions): Promise<LockSnapshot> {
    const expected = decodeVersion(expectedVersion);
    const primary =
      expected.primary === null ? await this.primary.create(record, options) : await this.primary.update(record, expected.primary, options);
    const secondary = await this.writeSecondary(withToken(record, primary), expected.secondary, options);
    return { record: primary.record, version: encodeVersion(primary.version, secondary.version) };
  }

  watch(handlers: WatchHandlers): () => void {
    // Any change to either lock means "read again": a combined snapshot needs both.
    const forward: WatchHandlers = { onChange: () => handlers.onChange(undefined) };
    const health = { primary: this.primary.watch === undefined, secondary: this.secondary.watch === undefined };
    const report = (which: 'primary' | 'secondary') => (healthy: boolean) => {
      health[which] = healthy;
      handlers.onHealth?.(health.primary && health.secondary);
    };
    const stops = [
      this.primary.watch?.({ ...forward, onHealth: report('primary') }),
      this.secondary.watch?.({ ...forward, onHealth: report('secondary') }),
    ];
    return () => stops.forEach((stop) => stop?.());
  }

  onSessionLost(listener: (reason: Error) => void): () => void {
    const stops = [this.primary.onSessionLost?.(listener), this.secondary.onSessionLost?.(listener)];
    return () => stops.forEach((stop) => stop?.());
  }

  async close(): Promise<void> {
    await Promise.all([this.primary.close?.(), this.secondary.close?.()]);
  }

  /** A compare-and-swap on what `get` saw; a secondary created meanwhile is a conflict, never overwritten. */
  private writeSecondary(record: LeaderElectionRecord, expected: string | null, options?: LockCallOptions): Promise<LockSnapshot> {
    return expected === null ? this.secondary.create(record, options) : this.secondary.update(record, expected, options);
  }
}

function withToken(record: LeaderElectionRecord, primary: LockSnapshot): LeaderElectionRecord {
  return { ...record, fencingToken: primary.record.fencingToken };
}

function encodeVersion(primary: string | null, secondary: string | null): string {
  return JSON.stringify([primary, secondary]);
}

function decodeVersion(version: string): { primary: string | null; secondary: string | null } {
  try {
    const [primary, secondary] = JSON.parse(version) as [string | null, string | null];
    return { primary, secondary };
  } catch (error) {
    throw new LockConflictError(`not a multilock version: ${version}`, { cause: error });
  }
}
