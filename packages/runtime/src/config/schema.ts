import { ConfigError, parseDuration, resolveTimings } from '@baton/core';
import { z } from 'zod';
import { describeValue } from './describe-value.ts';

/** The backends baton ships, in the order help and errors list them. */
export const BUILTIN_BACKENDS = ['lease', 'endpoints', 'configmap', 'redis', 'postgres', 'etcd', 'memory'] as const;

/** Defaults of the timing fields: client-go's. */
export const DEFAULT_TIMINGS = { leaseDuration: '15s', renewDeadline: '10s', retryPeriod: '2s' } as const;

/**
 * The error of a union when the value fits none of its types: what the field takes and what it
 * got, because zod's own message for a union is only `Invalid input`.
 */
function expecting(what: string) {
  return {
    error: (issue: z.core.$ZodRawIssue) => (issue.code === 'invalid_union' ? `expected ${what}, got ${describeValue(issue.input)}` : undefined),
  };
}

/** A duration field: milliseconds or a string like `"15s"`, validated by core's `parseDuration`. */
const duration = z.union([z.number(), z.string()], expecting('a duration such as "15s" or a number of milliseconds')).transform((value, ctx) => {
  try {
    return parseDuration(value, 'value');
  } catch (error) {
    const message = error instanceof ConfigError ? error.message.slice('value: '.length) : String(error);
    ctx.issues.push({ code: 'custom', message, input: value });
    return z.NEVER;
  }
});

const nonEmpty = z.string().min(1, 'must not be empty');

const kubernetesSection = z.strictObject({
  /** Path of a kubeconfig. Default: `$KUBECONFIG`, `~/.kube/config`, or the in-cluster service account. */
  kubeconfig: nonEmpty.optional(),
  /** kubeconfig context. Default: its current context. */
  context: nonEmpty.optional(),
  /** An API server URL to use instead of a kubeconfig (with `token`). */
  url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
  /** Bearer token for `url`. */
  token: nonEmpty.optional(),
  /** CA certificate file (PEM) for an https `url`. */
  certificateAuthority: nonEmpty.optional(),
  /** Skip TLS verification for an https `url`. */
  insecureSkipTLSVerify: z.boolean().optional(),
  /** Record `became leader` / `stopped leading` Events on the lock object. Default true. */
  events: z.boolean().optional(),
  /** Label the leading pod (`true`: `baton.dev/leader=true`; or a label key), so a Service can select the leader. */
  leaderPodLabel: z.union([z.boolean(), nonEmpty], expecting('true, false or a label key such as "example.com/leader"')).optional(),
  /** This pod's name, for `leaderPodLabel`. Default: `$POD_NAME`, else the identity. */
  podName: nonEmpty.optional(),
});

/** PEM files (relative to the configuration file): the CA to verify the server with, a client certificate and its key. */
const tlsFiles = { ca: nonEmpty.optional(), cert: nonEmpty.optional(), key: nonEmpty.optional() };

const redisSection = z.strictObject({
  /** `redis://[user:password@]host:port[/db]`, or `rediss://` for TLS. */
  url: z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' }).default('redis://127.0.0.1:6379'),
  /** Prepended to every key and channel. */
  keyPrefix: z.string().optional(),
  /** Redis Sentinel: the master group and its Sentinels (`url` then gives only credentials and db). */
  sentinel: z
    .strictObject({ name: nonEmpty, nodes: z.array(nonEmpty).min(1, 'list at least one Sentinel'), password: z.string().optional() })
    .optional(),
  /** Redis Cluster startup nodes, `host:port` (`url` then gives only credentials). */
  cluster: z.array(nonEmpty).min(1, 'list at least one startup node').optional(),
  /**
   * TLS (on with this block, as with `rediss://`): PEM files, the name the server's certificate
   * must have (default: the URL's host), and an explicit, logged opt-out of verification.
   */
  tls: z.strictObject({ ...tlsFiles, serverName: nonEmpty.optional(), insecureSkipVerify: z.boolean().optional() }).optional(),
});

const postgresSection = z.strictObject({
  /** `postgres://user:password@host:5432/db`. Default: libpq's `PG*` environment variables. */
  url: z.url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// or postgresql:// URL' }).optional(),
  /** Table holding the records. */
  table: nonEmpty.optional(),
  /** Schema of that table. */
  schema: nonEmpty.optional(),
  /** Server-side timeout of a silent leader's session. Default: fitted to the timings. */
  sessionTimeout: duration.optional(),
  /**
   * libpq's sslmode: `disable`, `prefer` (TLS without verification, plain text when the server
   * has no TLS), `require` (TLS without verification; with `tls.ca`, as verify-ca), `verify-ca`
   * (the chain), `verify-full` (the chain and the host name). Default: the URL's `sslmode`, else no TLS.
   */
  sslmode: z.enum(['disable', 'prefer', 'require', 'verify-ca', 'verify-full']).optional(),
  /** PEM files (relative to the configuration file): the CA (libpq's sslrootcert), a client certificate and key. */
  tls: z.strictObject(tlsFiles).optional(),
});

const etcdSection = z.strictObject({
  /** Client URLs of the members, comma-separated: `http://[user:password@]host:2379,…`, `https://` for TLS. */
  url: z
    .string()
    .refine((value) => value.split(',').every((one) => /^https?:\/\/[^\s,]+$/.test(one.trim())), {
      error: 'must be http:// or https:// URLs, comma-separated',
    })
    .default('http://127.0.0.1:2379'),
  /** PEM files (relative to the configuration file): the CA to verify members with, a client certificate and key. */
  tls: z.strictObject(tlsFiles).optional(),
  /** Prefix of record keys. Default `baton/lock/`. */
  keyPrefix: nonEmpty.optional(),
  /** Prefix of fencing counter keys. Default `baton/fence/`. */
  fencePrefix: nonEmpty.optional(),
  /** Bind each holder's record to an etcd lease (`true`, or `{ ttl }`): a crashed holder's record goes after the TTL. */
  session: z.union([z.boolean(), z.strictObject({ ttl: duration.optional() })], expecting('true, false or a mapping such as {ttl: "30s"}')).optional(),
  /** Bound on one etcd call. Default 5s. */
  operationTimeout: duration.optional(),
});

const httpSection = z.strictObject({
  /** Serve `/leader`, `/healthz`, `/readyz` and `/metrics`. */
  enabled: z.boolean().default(true),
  host: nonEmpty.default('0.0.0.0'),
  /** 0 picks a free port (it is logged). Default 4040, the old leader-elector sidecar's. */
  port: z.int().min(0).max(65_535).default(4040),
  /** `/healthz` fails once the leader's lease has been expired for longer than this. */
  healthTolerance: duration.default(20_000),
});

const logSection = z.strictObject({
  level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  /** `json` (one object per line, the default) or `pretty` (for a terminal). */
  format: z.enum(['json', 'pretty']).default('json'),
});

/** The sections of the built-in backends (lease, endpoints and configmap share `kubernetes`). */
export const BUILTIN_SECTIONS = { kubernetes: kubernetesSection, redis: redisSection, postgres: postgresSection, etcd: etcdSection, memory: z.strictObject({}) };

/** Where each built-in backend reads its options. */
export const BUILTIN_SECTION_OF: Record<string, string> = {
  lease: 'kubernetes',
  endpoints: 'kubernetes',
  configmap: 'kubernetes',
  redis: 'redis',
  postgres: 'postgres',
  etcd: 'etcd',
  memory: 'memory',
};

/**
 * The one configuration schema. `backends` are the names the container offers (the
 * built-in ones plus any the application bound); `sections` are extra option sections of
 * application backends, accepted as free-form objects and checked by the backend itself.
 */
export function createConfigSchema(backends: readonly string[] = BUILTIN_BACKENDS, sections: readonly string[] = []) {
  const extra: Record<string, z.ZodOptional<z.ZodRecord<z.ZodString, z.ZodUnknown>>> = {};
  for (const section of sections) {
    if (!(section in BUILTIN_SECTIONS)) extra[section] = z.record(z.string(), z.unknown()).optional();
  }
  return z
    .strictObject({
      /** Which backend holds the lock (controller-runtime's `LeaderElectionResourceLock`). */
      backend: z.string().refine((name) => backends.includes(name), {
        error: (issue) => `unknown backend "${String(issue.input)}"; valid backends: ${backends.join(', ')}`,
      }),
      /** `false` runs everything at once without an election (the Manager), or the command (`baton run`). */
      leaderElection: z.boolean().default(true),
      /** Name of the lock: the Lease's name, the Redis key, the PostgreSQL row. */
      leaderElectionID: z
        .string({ error: 'is required: name the lock (config file, BATON_LEADER_ELECTION_ID or --id)' })
        .min(1, 'must not be empty'),
      /** Namespace of the lock, for the Kubernetes backends. Default: the pod's own in a cluster, else `default`. */
      namespace: nonEmpty.optional(),
      /** This candidate's identity. Default: host name plus a random suffix; in a pod use its name. */
      identity: nonEmpty.optional(),
      leaseDuration: duration.default(parseDuration(DEFAULT_TIMINGS.leaseDuration, 'leaseDuration')),
      renewDeadline: duration.default(parseDuration(DEFAULT_TIMINGS.renewDeadline, 'renewDeadline')),
      retryPeriod: duration.default(parseDuration(DEFAULT_TIMINGS.retryPeriod, 'retryPeriod')),
      /**
       * How long leader-only work (a runnable, `baton run`'s command after SIGTERM) gets to
       * stop. Default: leaseDuration − renewDeadline, the margin before anyone else may lead.
       */
      gracePeriod: duration.optional(),
      /**
       * Stop (`baton run` exits 4) when every attempt has failed with a permanent error —
       * wrong credentials, a missing permission, database or namespace, a foreign record —
       * for this long; `/readyz` fails meanwhile. Transient errors retry forever.
       */
      giveUpAfter: duration.default(60_000),
      /** Clear the holder on a graceful stop so a follower takes over at once. */
      releaseOnCancel: z.boolean().default(true),
      /** Use the backend's change notifications instead of polling alone. */
      watch: z.boolean().default(true),
      http: httpSection.default({ enabled: true, host: '0.0.0.0', port: 4040, healthTolerance: 20_000 }),
      log: logSection.default({ level: 'info', format: 'json' }),
      kubernetes: kubernetesSection.optional(),
      redis: redisSection.optional(),
      postgres: postgresSection.optional(),
      etcd: etcdSection.optional(),
      memory: BUILTIN_SECTIONS.memory.optional(),
      ...extra,
    })
    .superRefine((config, ctx) => {
      // core's own check of leaseDuration > renewDeadline > 1.2 × retryPeriod, reported on the field it names.
      try {
        resolveTimings(config);
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        ctx.addIssue({ code: 'custom', path: [error.field], message: error.message.slice(error.field.length + 2) });
      }
    })
    .transform((config) => ({
      ...config,
      gracePeriod: config.gracePeriod ?? config.leaseDuration - config.renewDeadline,
    }));
}

/** A validated configuration: defaults filled in, durations in milliseconds. */
export type BatonConfig = z.output<ReturnType<typeof createConfigSchema>>;

/** What a configuration file (or `loadConfig`'s `values`) may contain, before validation. */
export type BatonConfigInput = z.input<ReturnType<typeof createConfigSchema>>;

/** The options section a backend reads: its own, or an empty object. */
export function sectionOf(config: BatonConfig, section: string): Record<string, unknown> {
  const value = (config as Record<string, unknown>)[section];
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}
