import type { ResourceLockFactory } from '@baton/core';
import type { Etcd3 } from 'etcd3';
import { EtcdConnection } from './connection.ts';
import { EtcdLock, SHARED_CONNECTION } from './etcd-lock.ts';
import type { SharedConnectionOption } from './etcd-lock.ts';
import { resolveFactoryOptions, validateLockName } from './options.ts';
import type { EtcdLockFactoryOptions } from './options.ts';

/**
 * Makes {@link EtcdLock}s that share one client, ONE watch stream and (with the session
 * option) ONE etcd lease, however many locks (elections) the process runs.
 *
 * @example
 * const factory = new EtcdLockFactory({ connection: 'http://127.0.0.1:2379', session: true });
 * const lock = factory.lock('my-job', defaultIdentity());
 * // ... new LeaderElector({ lock, callbacks }).run(signal)
 * await factory.close();
 */
export class EtcdLockFactory implements ResourceLockFactory {
  private readonly connection: EtcdConnection;

  /** @throws ConfigError naming the bad option. */
  constructor(options: EtcdLockFactoryOptions) {
    this.connection = new EtcdConnection(resolveFactoryOptions(options));
  }

  /** The client (yours when you passed one in). */
  get client(): Etcd3 {
    return this.connection.client;
  }

  /** The prefix of this factory's record keys. */
  get keyPrefix(): string {
    return this.connection.options.keyPrefix;
  }

  /** A lock on `name` for `identity`, sharing this factory's client, watch stream and session. */
  lock(name: string, identity: string): EtcdLock {
    validateLockName(name, identity);
    const options: SharedConnectionOption & { name: string; identity: string } = { name, identity, [SHARED_CONNECTION]: this.connection };
    return new EtcdLock(options);
  }

  /**
   * Stops every watch, revokes the session lease (records still attached to it are deleted,
   * so followers take over at once) and closes the client if the factory opened it. A client
   * you passed in stays open.
   */
  close(): Promise<void> {
    return this.connection.close();
  }

  /** @internal For tests: the ID of the session lease, once a holder has written. */
  get sessionLeaseId(): string | undefined {
    return this.connection.session?.leaseId;
  }

  /** @internal For tests: how many keys have an etcd watcher on the shared stream. */
  get watchedKeys(): number {
    return this.connection.watches.watchedKeys;
  }
}
