/**
 * @packageDocumentation
 * `@baton/testkit` (private) — what baton's tests and bench share for fault testing on real
 * servers: a controllable TCP proxy (cut, reset, hang, delay), throwaway Redis, PostgreSQL and etcd
 * servers of a test's own (free port, temporary directory, real restarts, TLS), test
 * certificates made with openssl, free ports.
 */
export { TcpProxy } from './tcp-proxy.ts';
export type { ProxyMode, ProxyStats, ProxyTarget } from './tcp-proxy.ts';
export { RedisServerProcess, rawCommand, waitForPing } from './redis-server.ts';
export type { RedisServerSpec, RedisServerTls } from './redis-server.ts';
export { PostgresCluster } from './postgres-cluster.ts';
export type { PostgresClusterOptions } from './postgres-cluster.ts';
export { freePort, listening } from './ports.ts';
export { EtcdCluster, EtcdMember } from './etcd-server.ts';
export type { MemberTls, RaftTimings } from './etcd-server.ts';
export { uniqueName, waitFor, within } from './wait.ts';
export { makeCertificates } from './certificates.ts';
export type { TestCertificateOptions, TestCertificates } from './certificates.ts';
