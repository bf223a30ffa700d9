/**
 * Where one lock lives in etcd. For the default prefixes and lock `jobs`:
 * - `baton/lock/jobs`   the record: JSON (see {@link encodeRecord}); its mod revision is the version
 * - `baton/fence/jobs`  the fencing counter: the last token issued, 16 zero-padded decimal digits
 *
 * The counter is never deleted by baton and never attached to a lease, so tokens keep growing
 * when the record is deleted (by hand, or by its holder's expired session lease).
 */
export interface LockKeys {
  readonly record: Buffer;
  readonly fence: Buffer;
}

export function lockKeys(keyPrefix: string, fencePrefix: string, name: string): LockKeys {
  return { record: Buffer.from(`${keyPrefix}${name}`), fence: Buffer.from(`${fencePrefix}${name}`) };
}
