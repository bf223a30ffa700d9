import type { z } from 'zod';
import { describeValue } from './describe-value.ts';

/** Where a configuration value came from, so an error can point at it. */
export type ConfigSource =
  | { kind: 'file'; path: string; line?: number; col?: number }
  | { kind: 'env'; name: string }
  | { kind: 'flag'; name: string }
  | { kind: 'code' };

/** One thing wrong with a configuration. */
export interface ConfigProblem {
  /** Dotted path of the field, e.g. `http.port`; empty for the whole document. */
  readonly field: string;
  readonly message: string;
  readonly source?: ConfigSource;
}

/** How zod names a type, as the configuration's reader knows it (a YAML mapping, not an "object"). */
const TYPE_NAMES: Record<string, string> = {
  int: 'a whole number',
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  object: 'a mapping',
  array: 'a list',
  record: 'a mapping',
};

interface Where {
  /** Where a field's value was set. */
  sourceOf(field: string): ConfigSource | undefined;
  /** Where an unknown key itself is, when a file set it. */
  keySource(path: readonly string[], key: string, fallback: ConfigSource | undefined): ConfigSource | undefined;
}

/**
 * One zod issue as problems an operator can act on: the field, what it takes and what it got,
 * in one line each — never zod's `Invalid input`.
 */
export function toProblems(issue: z.core.$ZodIssue, values: Record<string, unknown>, where: Where, prefix: readonly PropertyKey[] = []): ConfigProblem[] {
  const path = [...prefix, ...issue.path].map(String);
  const field = path.join('.');
  const value = valueAt(values, path);
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => {
        const full = field === '' ? key : `${field}.${key}`;
        const suggestion = suggest(key);
        return {
          field: full,
          message: `unknown field${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`,
          source: where.keySource(path, key, where.sourceOf(full)),
        };
      });
    case 'invalid_union': {
      // A value of the right type for exactly one branch (a mapping for `etcd.session`) is
      // wrong inside it: report that branch's problems, at their own fields.
      const fitting = issue.errors.filter((branch) => !branch.some((inner) => inner.path.length === 0 && inner.code === 'invalid_type'));
      if (fitting.length === 1) return fitting[0]!.flatMap((inner) => toProblems(inner, values, where, path));
      return [{ field, message: unionMessage(issue, value), source: where.sourceOf(field) }];
    }
    default:
      return [{ field, message: message(issue, value), source: where.sourceOf(field) }];
  }
}

function message(issue: z.core.$ZodIssue, value: unknown): string {
  switch (issue.code) {
    case 'invalid_type':
      if (value === undefined) return issue.message.startsWith('Invalid input') ? 'is required' : issue.message;
      return `expected ${TYPE_NAMES[issue.expected] ?? `a ${issue.expected}`}, got ${describeValue(value)}`;
    case 'too_small':
      return issue.origin === 'string' ? 'must not be empty' : `must be at least ${String(issue.minimum)}`;
    case 'too_big':
      return `must be at most ${String(issue.maximum)}`;
    case 'invalid_value':
      return `must be one of: ${issue.values.map(String).join(', ')}; got ${JSON.stringify(value)}`;
    default:
      return issue.message;
  }
}

/** The union's own message (the schema says what it takes), else the types its branches take. */
function unionMessage(issue: z.core.$ZodIssueInvalidUnion, value: unknown): string {
  if (!issue.message.startsWith('Invalid input')) return issue.message;
  const expected = issue.errors.flatMap((branch) =>
    branch.flatMap((inner) => (inner.code === 'invalid_type' && inner.path.length === 0 ? [TYPE_NAMES[inner.expected] ?? `a ${inner.expected}`] : [])),
  );
  return `expected ${[...new Set(expected)].join(' or ') || 'another value'}, got ${describeValue(value)}`;
}

export function valueAt(values: unknown, path: readonly string[]): unknown {
  let value = values;
  for (const key of path) value = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>)[key] : undefined;
  return value;
}

const KNOWN_FIELDS = [
  'backend', 'leaderElection', 'leaderElectionID', 'namespace', 'identity', 'leaseDuration', 'renewDeadline', 'retryPeriod',
  'gracePeriod', 'giveUpAfter', 'releaseOnCancel', 'watch', 'http', 'log', 'kubernetes', 'redis', 'postgres', 'etcd', 'memory', 'enabled', 'host',
  'port', 'healthTolerance', 'level', 'format', 'kubeconfig', 'context', 'url', 'token', 'insecureSkipTLSVerify', 'keyPrefix',
  'table', 'schema', 'sessionTimeout', 'certificateAuthority', 'tls', 'ca', 'cert', 'key', 'fencePrefix', 'session', 'ttl',
  'operationTimeout', 'serverName', 'insecureSkipVerify', 'sslmode',
];

/** The known field closest to a misspelt one, if any is close. */
function suggest(key: string): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(key.length / 4)) + 1;
  for (const known of KNOWN_FIELDS) {
    const distance = editDistance(key.toLowerCase(), known.toLowerCase());
    if (distance < bestDistance) {
      best = known;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}
