// PATCH: the four patch content types applied to the live object, then the result written
// through the same update path as a PUT (preconditions, validation, no-op detection).

import type { KindDef, Obj } from './kinds/index.ts';
import { decodeBody, metaOf, nameMismatch, namespaceMismatch, type WriteOptions } from './object-codec.ts';
import { applyJsonPatch, applyStrategicMergePatch, mergePatch, parseJsonPatch, PatchError, type Json } from './patch.ts';
import { badRequest, fieldErr, internalError, invalid, notFound, unprocessable, unsupportedMediaType } from './status.ts';
import { groupResource } from './object-codec.ts';

/** A write's result; `created` tells a create-on-update or apply-create apart (201). */
export interface WriteResult {
  obj: Obj;
  created: boolean;
}

/** The registry's write paths a patch ends in. */
export interface PatchTarget {
  /** The stored object, or undefined. */
  getStored(def: KindDef, namespace: string, name: string): Obj | undefined;
  /** The stored object as the def serves it, read-only. */
  view(def: KindDef, stored: Obj): Obj;
  createPrepared(def: KindDef, obj: Obj, options: WriteOptions): Obj;
  updatePrepared(def: KindDef, namespace: string, name: string, obj: Obj, options: WriteOptions): WriteResult;
}

const APPLY_TYPES = ['application/apply-patch+yaml', 'application/apply-patch+json'];
const PATCH_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json'];

function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** PATCH with one of the four patch content types. */
export function patchObject(
  target: PatchTarget,
  def: KindDef,
  namespace: string,
  name: string,
  contentType: string,
  rawBody: string,
  options: WriteOptions,
): WriteResult {
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  const stored = target.getStored(def, namespace, name);
  if (APPLY_TYPES.includes(type)) return applyObject(target, def, namespace, name, rawBody, stored, options);
  if (!PATCH_TYPES.includes(type)) throw unsupportedMediaType(contentType);
  let patchDoc: unknown;
  try {
    patchDoc = JSON.parse(rawBody);
  } catch (e) {
    throw badRequest(`error decoding patch: ${(e as Error).message}`);
  }
  if (!stored) throw notFound(groupResource(def), name);
  // The patch functions copy what they change; the stored object stays as it is.
  const current = target.view(def, stored) as Json;
  let patched: Json;
  try {
    if (type === 'application/json-patch+json') patched = applyJsonPatch(current, parseJsonPatch(patchDoc));
    else if (type === 'application/merge-patch+json') {
      if (!isObject(patchDoc)) throw new PatchError(400, 'json: cannot unmarshal array into Go value of type map[string]interface {}');
      patched = mergePatch(current, patchDoc as Json);
    } else patched = applyStrategicMergePatch(current, patchDoc as Json);
  } catch (e) {
    if (e instanceof PatchError) throw e.code === 400 ? badRequest(e.message) : unprocessable(e.message);
    throw e;
  }
  if (!isObject(patched)) throw badRequest('the patched document is not an object');
  const obj = decodeBody(def, patched, options);
  const meta = metaOf(obj);
  if ((meta.name ?? '') !== name) nameMismatch(meta.name, name);
  if (def.namespaced && (meta.namespace ?? '') !== namespace) namespaceMismatch();
  return target.updatePrepared(def, namespace, name, obj, options);
}

/**
 * Server-side apply, approximated: the applied configuration is merged into the live object
 * (or creates it). No field ownership, no conflicts between managers, no managedFields.
 */
function applyObject(
  target: PatchTarget,
  def: KindDef,
  namespace: string,
  name: string,
  rawBody: string,
  stored: Obj | undefined,
  options: WriteOptions,
): WriteResult {
  if (!options.fieldManager) {
    throw invalid({ group: 'meta.k8s.io', kind: 'PatchOptions' }, '', [fieldErr.required('fieldManager', 'is required for apply patch')]);
  }
  let applied: unknown;
  try {
    applied = JSON.parse(rawBody);
  } catch {
    throw badRequest('error decoding YAML: only the JSON subset of YAML is supported by this server');
  }
  if (!isObject(applied)) throw badRequest('apply patch must be an object');
  if (!applied.apiVersion || !applied.kind) throw badRequest('invalid object type: apiVersion and kind must be set in an apply configuration');
  const appliedMeta = metaOf(applied);
  if (appliedMeta.name !== undefined && appliedMeta.name !== name) nameMismatch(appliedMeta.name, name);
  appliedMeta.name = name;
  if (!stored) {
    if (def.namespaced) appliedMeta.namespace = namespace;
    const obj = decodeBody(def, applied, options);
    if (metaOf(obj).resourceVersion) throw internalError('resourceVersion should not be set on objects to be created');
    return { obj: target.createPrepared(def, obj, options), created: true };
  }
  const merged = applyStrategicMergePatch(target.view(def, stored) as Json, applied as Json) as Obj;
  return target.updatePrepared(def, namespace, name, decodeBody(def, merged, options), options);
}
