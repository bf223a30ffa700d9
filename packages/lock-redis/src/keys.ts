/**
 * Where one lock lives in Redis. The name is a hash tag, so the record, its fencing counter
 * (and the channel, for readability) hash to one slot and a script may touch both keys on
 * Redis Cluster.
 *
 * For prefix `baton:` and name `jobs`:
 * - `baton:{jobs}`        hash: the record (see {@link RECORD_FIELDS}) plus `version`
 * - `baton:{jobs}:fence`  string: the fencing counter (never expires)
 * - `baton:{jobs}:changes` pub/sub channel: every write publishes the new record
 */
export interface LockKeys {
  readonly record: string;
  readonly fence: string;
  readonly channel: string;
}

export function lockKeys(keyPrefix: string, name: string): LockKeys {
  const record = `${keyPrefix}{${name}}`;
  return { record, fence: `${record}:fence`, channel: `${record}:changes` };
}
