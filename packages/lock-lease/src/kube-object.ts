// Types shared by the lock, its codecs, the informer and the event recorder. They live here,
// apart from the classes, so that none of those modules imports another just for a type.
import type { Clock, LeaderElectionRecord, Logger } from '@baton/core';
import type { KubeConfig, V1ObjectMeta } from '@kubernetes/client-node';
import type { Agent } from 'node:http';

/** Any Kubernetes object baton can keep a record on. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
}

/** One kind of object in one namespace: where its collection is and what it is called. */
export interface KubeResource {
  /** `Lease`, `Endpoints`, `ConfigMap`. */
  readonly kind: string;
  /** `coordination.k8s.io/v1`, `v1`. */
  readonly apiVersion: string;
  /** The plural as RBAC names it, with its group: `leases.coordination.k8s.io`, `endpoints`. */
  readonly resource: string;
  /** The collection URL: `/apis/coordination.k8s.io/v1/namespaces/ns/leases`. */
  readonly collectionPath: string;
}

/** How the record lives in (and is recovered from) an object of that kind. */
export interface RecordCodec<T extends KubeObject> {
  /** The record, or a raw form for validation; `null` when the object carries none (free). */
  decode(object: T): unknown;
  /**
   * `base` with the record written into it; every field the codec does not own is kept. It may
   * replace top-level fields of `base` (the caller passes a shallow copy) but must never mutate
   * the objects they point to.
   */
  encode(record: LeaderElectionRecord, base: T): T;
}

/**
 * Where a lock reports leadership changes, as client-go's `ResourceLockConfig.EventRecorder`.
 * Fire and forget: it must never throw nor affect the election.
 */
export interface LeaderEventSink {
  record(object: KubeObject, resource: KubeResource, message: string): void;
}

/** How a factory's requests reach the API server. */
export interface KubeClientOptions {
  /**
   * Your own HTTP(S) agent for the API server's requests and watches. It must not limit
   * sockets (`maxSockets` left unlimited, a `ConfigError` otherwise): each watch stream holds a
   * connection of it, and behind a limit they would starve the requests. Requests in flight are
   * bounded by {@link KubeClientOptions.maxConnections} all the same; the factory never closes
   * your agent. Default: a keep-alive agent with at most `maxConnections` sockets for requests
   * and one connection per watch, shared by every lock of the factory.
   */
  agent?: Agent;
  /** Requests in flight at most (and the default agent's sockets for them; watches not counted). Default 6. */
  maxConnections?: number;
  /**
   * Requests per second the factory sends at most, client-go's `QPS` (default 1000: a ceiling
   * for a process with many elections, not a pace — lower it on a busy shared API server).
   * Renewals of held leases are served before acquisition attempts and reads of free locks.
   */
  qps?: number;
  /** Requests allowed at once above the rate, client-go's `Burst` (default 200). */
  burst?: number;
}

/** Options every Kubernetes lock takes. */
export interface KubeLockOptions extends KubeClientOptions {
  /** Name of the object that holds the lock. */
  name: string;
  /** Its namespace. */
  namespace: string;
  /** The identity to campaign under (in a pod: the pod name). */
  identity: string;
  kubeConfig: KubeConfig;
  /** Record `became leader` / `stopped leading` Events on the object, as client-go does. Default true. */
  events?: boolean;
  logger?: Logger;
  /** Timers of the watch's reconnect backoff and the rate limiter. Default: the system clock. */
  clock?: Clock;
}
