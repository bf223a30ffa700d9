import { Etcd3, GRPCUnavailableError } from 'etcd3';
import type { IOptions } from 'etcd3';
import { DEFAULTS } from './options.ts';
import type { ResolvedConnection } from './options.ts';

type FaultHandling = NonNullable<IOptions['faultHandling']>;

/**
 * A policy that runs the call as is: no circuit breaker. etcd3's default breaker refuses a
 * member for 5 s after three failures, which would keep a leader from renewing for seconds
 * after a restarted single member is already back.
 */
const passThrough = {
  execute: <T>(fn: (context: { signal: AbortSignal }) => T | PromiseLike<T>): Promise<T> =>
    Promise.resolve().then(() => fn({ signal: new AbortController().signal })),
};

/**
 * On a cluster, a call that could not reach its member (UNAVAILABLE) is tried once on each
 * other member, right away. Nothing else is retried: a write that timed out may have been
 * applied, and the elector's compare-and-swap sorts that out on its next round.
 */
function retryOnOtherMembers(members: number) {
  return {
    execute: async <T>(fn: (context: { signal: AbortSignal; attempt: number }) => T | PromiseLike<T>): Promise<T> => {
      const signal = new AbortController().signal;
      for (let attempt = 0; ; attempt++) {
        try {
          return await fn({ signal, attempt });
        } catch (error) {
          if (!(error instanceof GRPCUnavailableError) || attempt + 1 >= members) throw error;
        }
      }
    },
  };
}

/** Watch stream reconnection: 100 ms doubling up to a second (etcd3's default waits up to 30 s). */
function watchBackoff(attempt = 0): { duration: number; next(): ReturnType<typeof watchBackoff> } {
  return {
    duration: Math.min(100 * 2 ** attempt, DEFAULTS.maxWatchBackoffMs),
    next: () => watchBackoff(Math.min(attempt + 1, 10)),
  };
}

/** Opens the client baton owns for `connection`. */
export function openClient(connection: ResolvedConnection): Etcd3 {
  const { hosts, tls, auth } = connection;
  const options: IOptions = {
    hosts,
    grpcOptions: {
      'grpc.keepalive_time_ms': DEFAULTS.keepAliveTimeMs,
      'grpc.keepalive_timeout_ms': DEFAULTS.keepAliveTimeoutMs,
      // Reconnect quickly after a member restarts (gRPC's default backoff grows to 2 minutes).
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 1000,
    },
    faultHandling: {
      host: () => passThrough as unknown as ReturnType<NonNullable<FaultHandling['host']>>,
      global: retryOnOtherMembers(hosts.length) as unknown as FaultHandling['global'],
      watchBackoff: { next: () => watchBackoff() } as unknown as FaultHandling['watchBackoff'],
    },
  };
  if (tls !== undefined) {
    options.credentials = {
      rootCertificate: tls.ca === undefined ? (undefined as unknown as Buffer) : Buffer.from(tls.ca),
      ...(tls.key === undefined ? {} : { privateKey: Buffer.from(tls.key) }),
      ...(tls.cert === undefined ? {} : { certChain: Buffer.from(tls.cert) }),
    };
  }
  if (auth !== undefined) options.auth = { username: auth.username, password: auth.password };
  return new Etcd3(options);
}
