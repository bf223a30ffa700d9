/**
 * The configuration fields that environment variables and flags can set. One table drives
 * both, the help text and the README, so they cannot drift apart.
 */

/** `file`: a path, made absolute against the working directory (a file's own paths resolve against its directory). */
export type OptionType = 'string' | 'boolean' | 'integer' | 'duration' | 'file';

export interface OptionSpec {
  /**
   * Where the value goes in the configuration: a path from the top, or `{ selected: path }`,
   * a path inside the selected backend's section (its `url`, its `tls` block).
   */
  readonly path: readonly string[] | { readonly selected: readonly string[] };
  readonly flag: string;
  readonly env: string;
  readonly type: OptionType;
  readonly help: string;
}

export const CONFIG_OPTIONS: readonly OptionSpec[] = [
  { path: ['backend'], flag: 'backend', env: 'BATON_BACKEND', type: 'string', help: 'lease | endpoints | configmap | redis | postgres | etcd | memory' },
  { path: ['leaderElectionID'], flag: 'id', env: 'BATON_LEADER_ELECTION_ID', type: 'string', help: 'name of the lock' },
  { path: ['namespace'], flag: 'namespace', env: 'BATON_NAMESPACE', type: 'string', help: 'namespace of the lock (Kubernetes backends)' },
  { path: ['identity'], flag: 'identity', env: 'BATON_IDENTITY', type: 'string', help: "this candidate's identity (default: host name + random suffix)" },
  { path: ['leaderElection'], flag: 'leader-election', env: 'BATON_LEADER_ELECTION', type: 'boolean', help: 'campaign (default true); --no-leader-election runs without a lock' },
  { path: ['leaseDuration'], flag: 'lease-duration', env: 'BATON_LEASE_DURATION', type: 'duration', help: 'default 15s' },
  { path: ['renewDeadline'], flag: 'renew-deadline', env: 'BATON_RENEW_DEADLINE', type: 'duration', help: 'default 10s' },
  { path: ['retryPeriod'], flag: 'retry-period', env: 'BATON_RETRY_PERIOD', type: 'duration', help: 'default 2s' },
  { path: ['gracePeriod'], flag: 'grace-period', env: 'BATON_GRACE_PERIOD', type: 'duration', help: 'SIGTERM → SIGKILL delay (default leaseDuration − renewDeadline)' },
  { path: ['giveUpAfter'], flag: 'give-up-after', env: 'BATON_GIVE_UP_AFTER', type: 'duration', help: 'exit (code 4) when permanent errors last this long (default 60s)' },
  { path: ['releaseOnCancel'], flag: 'release-on-cancel', env: 'BATON_RELEASE_ON_CANCEL', type: 'boolean', help: 'release the lease on a graceful stop (default true)' },
  { path: { selected: ['url'] }, flag: 'url', env: 'BATON_URL', type: 'string', help: "the selected backend's URL (redis://, postgres://, http:// etcd members, or a Kubernetes API server)" },
  { path: ['kubernetes', 'kubeconfig'], flag: 'kubeconfig', env: 'BATON_KUBECONFIG', type: 'string', help: 'kubeconfig path (default $KUBECONFIG, ~/.kube/config, in-cluster)' },
  { path: ['kubernetes', 'context'], flag: 'context', env: 'BATON_KUBE_CONTEXT', type: 'string', help: 'kubeconfig context' },
  { path: ['kubernetes', 'token'], flag: 'token', env: 'BATON_KUBE_TOKEN', type: 'string', help: 'bearer token for --url (Kubernetes)' },
  { path: ['kubernetes', 'certificateAuthority'], flag: 'certificate-authority', env: 'BATON_KUBE_CA_FILE', type: 'string', help: 'CA file for an https --url (Kubernetes)' },
  { path: ['kubernetes', 'insecureSkipTLSVerify'], flag: 'insecure-skip-tls-verify', env: 'BATON_KUBE_INSECURE_SKIP_TLS_VERIFY', type: 'boolean', help: 'do not verify the API server certificate' },
  { path: ['kubernetes', 'leaderPodLabel'], flag: 'leader-pod-label', env: 'BATON_LEADER_POD_LABEL', type: 'boolean', help: 'label the leading pod baton.dev/leader=true (Kubernetes)' },
  { path: { selected: ['tls', 'ca'] }, flag: 'tls-ca', env: 'BATON_TLS_CA', type: 'file', help: 'CA file (PEM) the server certificate must chain to (redis, postgres, etcd)' },
  { path: { selected: ['tls', 'cert'] }, flag: 'tls-cert', env: 'BATON_TLS_CERT', type: 'file', help: 'client certificate file (PEM) (redis, postgres, etcd)' },
  { path: { selected: ['tls', 'key'] }, flag: 'tls-key', env: 'BATON_TLS_KEY', type: 'file', help: 'key file (PEM) of the client certificate' },
  { path: ['redis', 'tls', 'serverName'], flag: 'tls-server-name', env: 'BATON_TLS_SERVER_NAME', type: 'string', help: 'name the Redis certificate must have (default: the URL host)' },
  { path: ['redis', 'tls', 'insecureSkipVerify'], flag: 'tls-insecure-skip-verify', env: 'BATON_TLS_INSECURE_SKIP_VERIFY', type: 'boolean', help: 'do not verify the Redis certificate (logged as a warning)' },
  { path: ['postgres', 'sslmode'], flag: 'postgres-sslmode', env: 'BATON_POSTGRES_SSLMODE', type: 'string', help: "disable | prefer | require | verify-ca | verify-full (libpq's meaning)" },
  { path: ['redis', 'keyPrefix'], flag: 'redis-key-prefix', env: 'BATON_REDIS_KEY_PREFIX', type: 'string', help: 'prefix of Redis keys (default "baton:")' },
  { path: ['postgres', 'table'], flag: 'postgres-table', env: 'BATON_POSTGRES_TABLE', type: 'string', help: 'table of the records' },
  { path: ['http', 'enabled'], flag: 'http', env: 'BATON_HTTP_ENABLED', type: 'boolean', help: 'serve /leader, /healthz, /readyz, /metrics (default true)' },
  { path: ['http', 'host'], flag: 'http-host', env: 'BATON_HTTP_HOST', type: 'string', help: 'default 0.0.0.0' },
  { path: ['http', 'port'], flag: 'port', env: 'BATON_HTTP_PORT', type: 'integer', help: 'default 4040; 0 picks a free port' },
  { path: ['log', 'level'], flag: 'log-level', env: 'BATON_LOG_LEVEL', type: 'string', help: 'trace | debug | info | warn | error | silent' },
  { path: ['log', 'format'], flag: 'log-format', env: 'BATON_LOG_FORMAT', type: 'string', help: 'json (default) | pretty' },
];

/** The environment variable naming the configuration file, when `--config` is not given. */
export const CONFIG_FILE_ENV = 'BATON_CONFIG';
