// Request bodies to objects of a kind, and objects between a kind's API form and its stored form:
// what the real server's codec does before the registry's strategy sees an object.

import { defsForStorage, groupVersion, type KindDef, type Obj } from './kinds/index.ts';
import { canonicalize, decode, DecodeError } from './schema.ts';
import { badRequest, type GroupResource } from './status.ts';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

/** The options of one write request. */
export interface WriteOptions {
  dryRun: boolean;
  fieldValidation: FieldValidation;
  /** Collected `Warning` header texts. */
  warnings: string[];
  fieldManager?: string;
}

/** A plain write: not a dry run, unknown fields dropped with a warning. */
export const defaultWriteOptions = (): WriteOptions => ({ dryRun: false, fieldValidation: 'Warn', warnings: [] });

/** The group and plural resource of a kind, as errors name it (`leases.coordination.k8s.io`). */
export function groupResource(def: KindDef): GroupResource {
  return { group: def.group, resource: def.resource };
}

/** An object's metadata, created empty when missing (so callers can set fields on it). */
export function metaOf(obj: Obj): Obj {
  if (!obj.metadata || typeof obj.metadata !== 'object') obj.metadata = {};
  return obj.metadata as Obj;
}

/** A resourceVersion as a number; absent or empty is 0 ("unconditional"). */
export function parseResourceVersion(rv: unknown): number {
  if (rv === undefined || rv === null || rv === '') return 0;
  const text = String(rv);
  if (!/^\d+$/.test(text)) throw badRequest(`invalid resource version: ${text}`);
  return Number(text);
}

/** The 400 for a body whose name differs from the URL's. */
export function nameMismatch(bodyName: unknown, urlName: string): never {
  throw badRequest(`the name of the object (${String(bodyName ?? '')}) does not match the name on the URL (${urlName})`);
}

/** The 400 for a body whose namespace differs from the URL's. */
export function namespaceMismatch(): never {
  throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
}

/** Decodes a request body into this kind, as the real server's JSON decoder does. */
export function decodeBody(def: KindDef, body: unknown, options: WriteOptions): Obj {
  const asKind = `${def.kind} in version "${def.version}" cannot be handled as a ${def.kind}`;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badRequest(`${asKind}: json: cannot unmarshal ${Array.isArray(body) ? 'array' : typeof body} into Go value of type map[string]interface {}`);
  }
  const raw = body as Obj;
  const apiVersion = groupVersion(def);
  if (raw.apiVersion !== undefined && raw.apiVersion !== '' && raw.apiVersion !== apiVersion) {
    throw badRequest(`the API version in the data (${String(raw.apiVersion)}) does not match the expected API version (${apiVersion})`);
  }
  if (raw.kind !== undefined && raw.kind !== '' && raw.kind !== def.kind) {
    throw badRequest(`the kind in the data (${String(raw.kind)}) does not match the expected kind (${def.kind})`);
  }
  let result: ReturnType<typeof decode>;
  try {
    result = decode(raw, def.schema);
  } catch (e) {
    if (e instanceof DecodeError) throw badRequest(`${asKind}: ${e.message}`);
    throw e;
  }
  const unknownFields = result.unknownFields;
  if (unknownFields.length > 0) {
    if (options.fieldValidation === 'Strict') {
      throw badRequest(`${asKind}: strict decoding error: ${unknownFields.map((field) => `unknown field ${JSON.stringify(field)}`).join(', ')}`);
    }
    if (options.fieldValidation === 'Warn') for (const field of unknownFields) options.warnings.push(`unknown field ${JSON.stringify(field)}`);
  }
  // kind and apiVersion lead, as Go's TypeMeta does; the rest is already in canonical order.
  const { kind: _kind, apiVersion: _apiVersion, ...rest } = result.value;
  return { kind: def.kind, apiVersion, ...rest };
}

/** This API's form to the stored form (identity unless two APIs share storage, as the Event APIs). */
export function toStorage(def: KindDef, obj: Obj): Obj {
  if (!def.toStorage) return obj;
  const storageDef = defsForStorage(def.storageKey).find((candidate) => !candidate.toStorage)!;
  return canonicalize(def.toStorage(obj), storageDef.schema);
}

/** The stored form as this def's API serves it, as a fresh copy the caller may change. */
export function externalCopy(def: KindDef, stored: Obj): Obj {
  if (def.fromStorage) return canonicalize(def.fromStorage(structuredClone(stored)), def.schema);
  return structuredClone(stored);
}

/**
 * The stored form as this def's API serves it, for reading and encoding only: the stored object
 * itself when no conversion applies, so its memoized JSON is shared (see encoding.ts).
 */
export function externalView(def: KindDef, stored: Obj): Obj {
  if (def.fromStorage) return canonicalize(def.fromStorage(structuredClone(stored)), def.schema);
  return stored;
}
