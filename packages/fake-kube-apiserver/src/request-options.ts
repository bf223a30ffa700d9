// Query and body options of resource requests, validated with the real server's messages:
// write options (dryRun, fieldValidation, fieldManager), DeleteOptions, label and field selectors,
// and list continue tokens.

import type { KindDef, Obj } from './kinds/index.ts';
import type { DeleteOptionsBody, FieldValidation, WriteOptions } from './registry.ts';
import {
  matchFields,
  matchLabels,
  parseFieldSelector,
  parseLabelSelector,
  SelectorError,
  type FieldRequirement,
  type LabelRequirement,
} from './selectors.ts';
import { ApiError, badRequest, fieldErr, invalid } from './status.ts';

/** `true`, `True` and `1`, as Go's strconv.ParseBool reads query booleans. */
export function queryFlag(value: string | null): boolean {
  return value === 'true' || value === '1' || value === 'True';
}

function checkDryRun(values: string[]): void {
  for (const value of values) if (value !== 'All') throw badRequest(`Invalid dry run value: ${value}`);
}

/** dryRun, fieldValidation and fieldManager from the query string. */
export function writeOptions(query: URLSearchParams): WriteOptions {
  const dryRun = query.getAll('dryRun');
  checkDryRun(dryRun);
  const requested = query.get('fieldValidation') ?? '';
  let fieldValidation: FieldValidation;
  if (requested === '') fieldValidation = 'Warn';
  else if (requested === 'Strict' || requested === 'Warn' || requested === 'Ignore') fieldValidation = requested;
  else throw badRequest(`fieldValidation parameter unsupported: ${requested}; supported values: Ignore, Strict, Warn`);
  const options: WriteOptions = { dryRun: dryRun.length > 0, fieldValidation, warnings: [] };
  const fieldManager = query.get('fieldManager');
  if (fieldManager) options.fieldManager = fieldManager;
  return options;
}

/**
 * The DeleteOptions of a DELETE: the body (kubectl sends `{"propagationPolicy":…,"dryRun":["All"]}`)
 * with the query parameters layered on top, as the real server merges them. A body `dryRun` makes
 * the request a dry run just as the query parameter does.
 */
export function deleteOptions(body: unknown, query: URLSearchParams, write: WriteOptions): DeleteOptionsBody {
  let options: DeleteOptionsBody = {};
  if (body !== undefined) {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('DeleteOptions must be an object');
    options = body as DeleteOptionsBody;
  }
  if (options.dryRun !== undefined) {
    if (!Array.isArray(options.dryRun)) throw badRequest('json: cannot unmarshal string into Go struct field DeleteOptions.dryRun of type []string');
    checkDryRun(options.dryRun);
    if (options.dryRun.length > 0) write.dryRun = true;
  }
  const grace = query.get('gracePeriodSeconds');
  if (grace !== null) options.gracePeriodSeconds = Number(grace);
  const policy = query.get('propagationPolicy');
  if (policy !== null) options.propagationPolicy = policy;
  if (options.propagationPolicy && !['Orphan', 'Background', 'Foreground'].includes(options.propagationPolicy)) {
    throw invalid({ group: 'meta.k8s.io', kind: 'DeleteOptions' }, '', [
      fieldErr.notSupported('propagationPolicy', options.propagationPolicy, ['Foreground', 'Background', 'Orphan', 'nil']),
    ]);
  }
  return options;
}

/** A list or watch's label and field selectors. */
export interface Selection {
  labels: LabelRequirement[];
  fields: FieldRequirement[];
}

/** The selectors of a list, watch or deletecollection; a bad one is the real server's 400. */
export function parseSelection(def: KindDef, query: URLSearchParams): Selection {
  try {
    const labels = parseLabelSelector(query.get('labelSelector') ?? '');
    const fields = parseFieldSelector(query.get('fieldSelector') ?? '');
    for (const requirement of fields) {
      const field = requirement.field;
      if (field !== 'metadata.name' && field !== 'metadata.namespace' && !(field in def.fieldLabels)) {
        throw new SelectorError(`field label not supported: ${field}`);
      }
    }
    return { labels, fields };
  } catch (e) {
    if (e instanceof SelectorError) throw badRequest(e.message);
    throw e;
  }
}

/** Whether the selection can exclude anything (an empty one matches every object). */
export function isSelective(selection: Selection): boolean {
  return selection.labels.length > 0 || selection.fields.length > 0;
}

/** Whether an external object matches the selection. */
export function selectionMatcher(def: KindDef, selection: Selection): (obj: Obj) => boolean {
  return (obj) => {
    const meta = (obj.metadata ?? {}) as Obj;
    if (!matchLabels(selection.labels, meta.labels as Record<string, string> | undefined)) return false;
    return matchFields(selection.fields, (field) => {
      if (field === 'metadata.name') return String(meta.name ?? '');
      if (field === 'metadata.namespace') return String(meta.namespace ?? '');
      return def.fieldLabels[field]!(obj);
    });
  };
}

/** Where a paged list continues: the snapshot's revision and the first key not yet returned. */
export interface ContinueToken {
  rv: number;
  start: string;
}

/** An opaque continue token (base64url JSON), as a client must treat it. */
export function encodeContinue(token: ContinueToken): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: token.rv, start: token.start })).toString('base64url');
}

/** A continue token back to its position; anything else is the real server's 400. */
export function decodeContinue(text: string): ContinueToken {
  try {
    const token = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as { v?: string; rv?: number; start?: string };
    if (token.v !== 'meta.k8s.io/v1' || typeof token.rv !== 'number' || typeof token.start !== 'string') throw new Error('bad');
    return { rv: token.rv, start: token.start };
  } catch {
    throw badRequest(`continue key is not valid: ${text}`);
  }
}

/** A 422 on the request's ListOptions (resourceVersionMatch, sendInitialEvents, ...). */
export function listOptionsInvalid(errs: ReturnType<typeof fieldErr.invalid>[]): ApiError {
  return invalid({ group: 'meta.k8s.io', kind: 'ListOptions' }, '', errs);
}
