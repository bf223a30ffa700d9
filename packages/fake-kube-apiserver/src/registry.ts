// The REST semantics of the generic registry store (k8s.io/apiserver/pkg/registry/generic/registry):
// create, get, list, update, patch, delete, deletecollection with the real server's optimistic
// concurrency, system fields, defaulting, validation and error statuses. No HTTP here.
//
// Every operation runs synchronously from its read to its write, so on Node's single thread each
// compare-and-swap is atomic: of many concurrent updates carrying the same resourceVersion exactly
// one wins and the others get 409 Conflict.

import { randomUUID } from 'node:crypto';
import { encodeObject } from './encoding.ts';
import { defsForStorage, groupVersion, KINDS, type KindDef, type Obj } from './kinds/index.ts';
import {
  applyJsonPatch,
  applyStrategicMergePatch,
  mergePatch,
  parseJsonPatch,
  PatchError,
  type Json,
} from './patch.ts';
import { canonicalize, decode, DecodeError } from './schema.ts';
import {
  ApiError,
  alreadyExists,
  badRequest,
  conflict,
  fieldErr,
  internalError,
  invalid,
  notFound,
  successStatus,
  unprocessable,
  unsupportedMediaType,
  type FieldError,
  type GroupResource,
} from './status.ts';
import type { Store } from './store.ts';
import { nowTime } from './time.ts';
import { validateObjectMeta, validateObjectMetaUpdate } from './validation.ts';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export interface WriteOptions {
  dryRun: boolean;
  fieldValidation: FieldValidation;
  /** Collected `Warning` header texts. */
  warnings: string[];
  fieldManager?: string;
}

export const defaultWriteOptions = (): WriteOptions => ({ dryRun: false, fieldValidation: 'Warn', warnings: [] });

export interface RegistryOptions {
  strictNamespaces: boolean;
}

const namespaceDef = KINDS.find((k) => k.resource === 'namespaces' && k.group === '')!;

export function groupResource(def: KindDef): GroupResource {
  return { group: def.group, resource: def.resource };
}

function metaOf(o: Obj): Obj {
  if (!o.metadata || typeof o.metadata !== 'object') o.metadata = {};
  return o.metadata as Obj;
}

const NAME_CHARS = 'bcdfghjklmnpqrstvwxz2456789';

function generateName(prefix: string): string {
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += NAME_CHARS[Math.floor(Math.random() * NAME_CHARS.length)];
  return `${prefix.slice(0, 63 - 5)}${suffix}`;
}

function parseRv(rv: unknown): number {
  if (rv === undefined || rv === null || rv === '') return 0;
  const s = String(rv);
  if (!/^\d+$/.test(s)) throw badRequest(`invalid resource version: ${s}`);
  return Number(s);
}

export interface DeleteOptionsBody {
  preconditions?: { uid?: string; resourceVersion?: string };
  gracePeriodSeconds?: number;
  propagationPolicy?: string;
  orphanDependents?: boolean;
  dryRun?: string[];
}

export class Registry {
  private readonly store: Store;
  private readonly opts: RegistryOptions;
  private nextServiceIp = 1;

  constructor(store: Store, opts: RegistryOptions) {
    this.store = store;
    this.opts = opts;
  }

  // ---- representation ---------------------------------------------------------------------

  /** A stored object as this def's API version serves it (a fresh copy the caller may change). */
  external(def: KindDef, stored: Obj): Obj {
    if (def.fromStorage) return canonicalize(def.fromStorage(structuredClone(stored)), def.schema);
    return structuredClone(stored);
  }

  /**
   * A stored object as this def's API version serves it, for reading and encoding only: the stored
   * object itself when no conversion applies, so its memoized JSON is shared (see encoding.ts).
   */
  view(def: KindDef, stored: Obj): Obj {
    if (def.fromStorage) return canonicalize(def.fromStorage(structuredClone(stored)), def.schema);
    return stored;
  }

  private toStorage(def: KindDef, obj: Obj): Obj {
    if (!def.toStorage) return obj;
    const storageDef = defsForStorage(def.storageKey).find((d) => !d.toStorage)!;
    return canonicalize(def.toStorage(obj), storageDef.schema);
  }

  /** Decodes a request body into this kind, as the real server's JSON decoder does. */
  decodeBody(def: KindDef, body: unknown, opts: WriteOptions): Obj {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw badRequest(`${def.kind} in version "${def.version}" cannot be handled as a ${def.kind}: json: cannot unmarshal ${Array.isArray(body) ? 'array' : typeof body} into Go value of type map[string]interface {}`);
    }
    const raw = body as Obj;
    const gv = groupVersion(def);
    if (raw.apiVersion !== undefined && raw.apiVersion !== '' && raw.apiVersion !== gv) {
      throw badRequest(`the API version in the data (${String(raw.apiVersion)}) does not match the expected API version (${gv})`);
    }
    if (raw.kind !== undefined && raw.kind !== '' && raw.kind !== def.kind) {
      throw badRequest(`the kind in the data (${String(raw.kind)}) does not match the expected kind (${def.kind})`);
    }
    let decoded: Obj;
    let unknown: string[];
    try {
      const r = decode(raw, def.schema);
      decoded = r.value;
      unknown = r.unknownFields;
    } catch (e) {
      if (e instanceof DecodeError) {
        throw badRequest(`${def.kind} in version "${def.version}" cannot be handled as a ${def.kind}: ${e.message}`);
      }
      throw e;
    }
    if (unknown.length > 0) {
      if (opts.fieldValidation === 'Strict') {
        throw badRequest(
          `${def.kind} in version "${def.version}" cannot be handled as a ${def.kind}: strict decoding error: ${unknown.map((u) => `unknown field ${JSON.stringify(u)}`).join(', ')}`,
        );
      }
      if (opts.fieldValidation === 'Warn') for (const u of unknown) opts.warnings.push(`unknown field ${JSON.stringify(u)}`);
    }
    decoded.kind = def.kind;
    decoded.apiVersion = gv;
    return canonicalize(decoded, def.schema);
  }

  // ---- reads ------------------------------------------------------------------------------

  getStored(def: KindDef, namespace: string, name: string): Obj | undefined {
    return this.store.get(def.storageKey, def.namespaced ? namespace : '', name);
  }

  get(def: KindDef, namespace: string, name: string): Obj {
    const stored = this.getStored(def, namespace, name);
    if (!stored) throw notFound(groupResource(def), name);
    return this.view(def, stored);
  }

  /** Every object of the def, external form (read-only views), in key order. */
  list(def: KindDef, namespace: string | undefined): Obj[] {
    return this.store.list(def.storageKey, def.namespaced ? namespace : undefined).map((o) => this.view(def, o));
  }

  // ---- create -----------------------------------------------------------------------------

  private ensureNamespace(def: KindDef, namespace: string, dryRun: boolean): void {
    if (!def.namespaced) return;
    if (this.store.get('namespaces', '', namespace)) return;
    if (this.opts.strictNamespaces) throw notFound({ group: '', resource: 'namespaces' }, namespace);
    if (dryRun) return;
    this.create(namespaceDef, '', { metadata: { name: namespace } }, defaultWriteOptions());
  }

  private systemFieldsForCreate(def: KindDef, obj: Obj): void {
    const m = metaOf(obj);
    m.uid = randomUUID();
    m.creationTimestamp = nowTime();
    delete m.deletionTimestamp;
    delete m.deletionGracePeriodSeconds;
    delete m.managedFields;
    delete m.selfLink;
    if (def.tracksGeneration) m.generation = 1;
    else delete m.generation;
  }

  private validateCreate(def: KindDef, obj: Obj): void {
    const m = metaOf(obj);
    const errs: FieldError[] = [...(def.validate?.(obj) ?? [])];
    errs.push(...validateObjectMeta(m, { namespaced: def.namespaced, nameValidator: def.nameValidator }));
    if (errs.length) throw invalid({ group: def.group, kind: def.kind }, String(m.name ?? ''), errs);
  }

  /** POST: create a decoded or raw body in `namespace`. Returns the external form. */
  create(def: KindDef, namespace: string, body: unknown, opts: WriteOptions): Obj {
    const obj = this.decodeBody(def, body, opts);
    const m = metaOf(obj);
    if (def.namespaced) {
      if (m.namespace && m.namespace !== namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      m.namespace = namespace;
    } else {
      delete m.namespace;
    }
    if (m.resourceVersion) throw internalError('resourceVersion should not be set on objects to be created');
    if (!m.name && typeof m.generateName === 'string' && m.generateName) m.name = generateName(m.generateName);
    return this.createPrepared(def, obj, opts);
  }

  private createPrepared(def: KindDef, obj: Obj, opts: WriteOptions): Obj {
    const m = metaOf(obj);
    const ns = def.namespaced ? String(m.namespace ?? '') : '';
    if (def.namespaced && ns) this.ensureNamespace(def, ns, opts.dryRun);
    this.systemFieldsForCreate(def, obj);
    def.prepareForCreate?.(obj, { allocateClusterIP: () => this.allocateClusterIP() });
    const prepared = canonicalize(obj, def.schema);
    this.validateCreate(def, prepared);
    const name = String(metaOf(prepared).name);
    if (this.store.get(def.storageKey, ns, name)) {
      const existing = this.store.get(def.storageKey, ns, name)!;
      const e = alreadyExists(groupResource(def), name);
      if (metaOf(existing).deletionTimestamp) e.status.message = `object is being deleted: ${e.status.message ?? ''}`;
      throw e;
    }
    if (opts.dryRun) return prepared;
    const stored = this.store.create(def.storageKey, this.toStorage(def, prepared));
    return this.view(def, stored);
  }

  private allocateClusterIP(): string {
    const n = this.nextServiceIp++;
    return `10.96.${Math.floor(n / 254) % 256}.${(n % 254) + 1}`;
  }

  // ---- update -----------------------------------------------------------------------------

  /** PUT. `created` tells a create-on-update apart (201). */
  update(def: KindDef, namespace: string, name: string, body: unknown, opts: WriteOptions): { obj: Obj; created: boolean } {
    const obj = this.decodeBody(def, body, opts);
    const m = metaOf(obj);
    if ((m.name ?? '') !== name) {
      throw badRequest(`the name of the object (${String(m.name ?? '')}) does not match the name on the URL (${name})`);
    }
    if (def.namespaced) {
      if (m.namespace && m.namespace !== namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      m.namespace = namespace;
    } else delete m.namespace;
    return this.updatePrepared(def, namespace, name, obj, opts);
  }

  private updatePrepared(def: KindDef, namespace: string, name: string, obj: Obj, opts: WriteOptions): { obj: Obj; created: boolean } {
    const ns = def.namespaced ? namespace : '';
    const existingStored = this.store.get(def.storageKey, ns, name);
    const m = metaOf(obj);
    if (!existingStored) {
      if (!def.allowCreateOnUpdate) throw notFound(groupResource(def), name);
      delete m.resourceVersion;
      return { obj: this.createPrepared(def, obj, opts), created: true };
    }
    const existing = this.view(def, existingStored);
    const em = metaOf(existing);
    const gr = groupResource(def);
    if (m.uid && m.uid !== em.uid) {
      throw conflict(gr, name, `Precondition failed: UID in precondition: ${String(m.uid)}, UID in object meta: ${String(em.uid)}`);
    }
    const newRv = parseRv(m.resourceVersion);
    const existingRv = parseRv(em.resourceVersion);
    if (newRv === 0) {
      if (!def.allowUnconditionalUpdate) {
        throw invalid({ group: def.group, kind: def.resource }, name, [
          fieldErr.invalid('metadata.resourceVersion', 0, 'must be specified for an update'),
        ]);
      }
    } else if (newRv !== existingRv) {
      throw conflict(gr, name);
    }
    // BeforeUpdate: system fields come from the stored object.
    m.uid = em.uid;
    m.creationTimestamp = em.creationTimestamp;
    m.resourceVersion = em.resourceVersion;
    delete m.managedFields;
    delete m.selfLink;
    if (em.deletionTimestamp) m.deletionTimestamp = em.deletionTimestamp;
    else delete m.deletionTimestamp;
    if (em.deletionGracePeriodSeconds !== undefined) m.deletionGracePeriodSeconds = em.deletionGracePeriodSeconds;
    else delete m.deletionGracePeriodSeconds;
    if (def.tracksGeneration) m.generation = em.generation ?? 1;
    else if (em.generation !== undefined) m.generation = em.generation;
    else delete m.generation;
    if (def.preservesStatus) obj.status = existing.status;
    def.prepareForUpdate?.(obj, existing);
    if (def.tracksGeneration && JSON.stringify(obj.spec ?? null) !== JSON.stringify(existing.spec ?? null)) {
      m.generation = Number(em.generation ?? 1) + 1;
    }
    const prepared = canonicalize(obj, def.schema);
    const errs: FieldError[] = [
      ...(def.validateUpdate?.(prepared, existing) ?? []),
      ...validateObjectMeta(metaOf(prepared), { namespaced: def.namespaced, nameValidator: def.nameValidator }).filter(
        (e) => e.field !== 'metadata.name',
      ),
      ...validateObjectMetaUpdate(metaOf(prepared), em),
    ];
    if (errs.length) throw invalid({ group: def.group, kind: def.kind }, name, errs);

    // An update that removes the last finalizer of an object being deleted deletes it.
    const pm = metaOf(prepared);
    if (pm.deletionTimestamp && !((pm.finalizers as string[] | undefined)?.length)) {
      if (opts.dryRun) return { obj: prepared, created: false };
      this.store.update(def.storageKey, this.toStorage(def, prepared));
      const last = this.store.delete(def.storageKey, ns, name)!;
      return { obj: this.view(def, last), created: false };
    }
    // A write that changes nothing is not a write: same resourceVersion, no watch event. Both are
    // in canonical field order and carry the stored resourceVersion, so equal JSON means no change.
    if (JSON.stringify(prepared) === encodeObject(existing)) return { obj: existing, created: false };
    if (opts.dryRun) return { obj: prepared, created: false };
    const stored = this.store.update(def.storageKey, this.toStorage(def, prepared));
    return { obj: this.view(def, stored), created: false };
  }

  // ---- patch ------------------------------------------------------------------------------

  /** PATCH with one of the four patch content types. */
  patch(
    def: KindDef,
    namespace: string,
    name: string,
    contentType: string,
    rawBody: string,
    opts: WriteOptions,
  ): { obj: Obj; created: boolean } {
    const type = contentType.split(';')[0]!.trim().toLowerCase();
    const ns = def.namespaced ? namespace : '';
    const stored = this.store.get(def.storageKey, ns, name);
    const gr = groupResource(def);
    let patchDoc: unknown;
    if (type === 'application/apply-patch+yaml' || type === 'application/apply-patch+json') {
      return this.apply(def, namespace, name, rawBody, stored, opts);
    }
    if (
      type !== 'application/json-patch+json' &&
      type !== 'application/merge-patch+json' &&
      type !== 'application/strategic-merge-patch+json'
    ) {
      throw unsupportedMediaType(contentType);
    }
    try {
      patchDoc = JSON.parse(rawBody);
    } catch (e) {
      throw badRequest(`error decoding patch: ${(e as Error).message}`);
    }
    if (!stored) throw notFound(gr, name);
    // The patch functions copy what they change; the stored object stays as it is.
    const current = this.view(def, stored) as Json;
    let patched: Json;
    try {
      if (type === 'application/json-patch+json') patched = applyJsonPatch(current, parseJsonPatch(patchDoc));
      else if (type === 'application/merge-patch+json') {
        if (typeof patchDoc !== 'object' || patchDoc === null || Array.isArray(patchDoc)) {
          throw new PatchError(400, 'json: cannot unmarshal array into Go value of type map[string]interface {}');
        }
        patched = mergePatch(current, patchDoc as Json);
      } else patched = applyStrategicMergePatch(current, patchDoc as Json);
    } catch (e) {
      if (e instanceof PatchError) throw e.code === 400 ? badRequest(e.message) : unprocessable(e.message);
      throw e;
    }
    if (typeof patched !== 'object' || patched === null || Array.isArray(patched)) {
      throw badRequest('the patched document is not an object');
    }
    const obj = this.decodeBody(def, patched, opts);
    const m = metaOf(obj);
    if ((m.name ?? '') !== name) throw badRequest(`the name of the object (${String(m.name ?? '')}) does not match the name on the URL (${name})`);
    if (def.namespaced && (m.namespace ?? '') !== namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    return this.updatePrepared(def, namespace, name, obj, opts);
  }

  /**
   * Server-side apply, approximated: the applied configuration is merged into the live object
   * (or creates it). No field ownership, no conflicts between managers, no managedFields.
   */
  private apply(def: KindDef, namespace: string, name: string, rawBody: string, stored: Obj | undefined, opts: WriteOptions): { obj: Obj; created: boolean } {
    if (!opts.fieldManager) {
      throw invalid({ group: 'meta.k8s.io', kind: 'PatchOptions' }, '', [
        fieldErr.required('fieldManager', 'is required for apply patch'),
      ]);
    }
    let applied: unknown;
    try {
      applied = JSON.parse(rawBody);
    } catch {
      throw badRequest('error decoding YAML: only the JSON subset of YAML is supported by this server');
    }
    if (typeof applied !== 'object' || applied === null || Array.isArray(applied)) throw badRequest('apply patch must be an object');
    const a = applied as Obj;
    if (!a.apiVersion || !a.kind) {
      throw badRequest('invalid object type: apiVersion and kind must be set in an apply configuration');
    }
    const am = metaOf(a);
    if (am.name !== undefined && am.name !== name) {
      throw badRequest(`the name of the object (${String(am.name)}) does not match the name on the URL (${name})`);
    }
    am.name = name;
    if (!stored) {
      if (def.namespaced) am.namespace = namespace;
      const obj = this.decodeBody(def, a, opts);
      if (metaOf(obj).resourceVersion) throw internalError('resourceVersion should not be set on objects to be created');
      return { obj: this.createPrepared(def, obj, opts), created: true };
    }
    const current = this.view(def, stored) as Json;
    const merged = applyStrategicMergePatch(current, a as Json) as Obj;
    const obj = this.decodeBody(def, merged, opts);
    return this.updatePrepared(def, namespace, name, obj, opts);
  }

  // ---- delete -----------------------------------------------------------------------------

  /** DELETE: the deleted object (for kinds that return it) or a Success Status. */
  delete(def: KindDef, namespace: string, name: string, options: DeleteOptionsBody, opts: WriteOptions): { body: Obj; code: number } {
    const ns = def.namespaced ? namespace : '';
    const stored = this.store.get(def.storageKey, ns, name);
    const gr = groupResource(def);
    if (!stored) throw notFound(gr, name);
    const current = this.view(def, stored);
    const cm = metaOf(current);
    const pre = options.preconditions ?? {};
    if (pre.uid && pre.uid !== cm.uid) {
      throw conflict(gr, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${String(cm.uid)}`);
    }
    if (pre.resourceVersion && pre.resourceVersion !== cm.resourceVersion) {
      throw conflict(
        gr,
        name,
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${String(cm.resourceVersion)}`,
      );
    }
    const finalizers = (cm.finalizers as string[] | undefined) ?? [];
    if (finalizers.length > 0) {
      // Graceful: mark for deletion; the object goes when its finalizers are removed.
      if (cm.deletionTimestamp) return { body: current, code: 200 };
      const marked = structuredClone(current);
      metaOf(marked).deletionTimestamp = nowTime();
      metaOf(marked).deletionGracePeriodSeconds = 0;
      if (opts.dryRun) return { body: marked, code: 200 };
      const updated = this.store.update(def.storageKey, this.toStorage(def, canonicalize(marked, def.schema)));
      return { body: this.view(def, updated), code: 200 };
    }
    if (def.resource === 'namespaces' && def.group === '' && !opts.dryRun) this.deleteNamespaceContents(name);
    if (opts.dryRun) {
      return { body: def.returnDeletedObject ? current : (successStatus({ name, group: def.group, kind: def.resource, uid: String(cm.uid) }) as Obj), code: 200 };
    }
    const last = this.store.delete(def.storageKey, ns, name)!;
    if (def.returnDeletedObject) {
      const out = this.external(def, last);
      if (def.resource === 'namespaces') {
        metaOf(out).deletionTimestamp = nowTime();
        out.status = { phase: 'Terminating' };
      }
      return { body: out, code: 200 };
    }
    return { body: successStatus({ name, group: def.group, kind: def.resource, uid: String(cm.uid) }) as Obj, code: 200 };
  }

  /** What the namespace controller does, at once: every object in the namespace is deleted. */
  private deleteNamespaceContents(namespace: string): void {
    const seen = new Set<string>();
    for (const def of KINDS) {
      if (!def.namespaced || seen.has(def.storageKey)) continue;
      seen.add(def.storageKey);
      for (const o of this.store.list(def.storageKey, namespace)) {
        this.store.delete(def.storageKey, namespace, String(metaOf(o).name));
      }
    }
  }

  /** DELETE on a collection: deletes what matches and returns the deleted objects as a list. */
  deleteCollection(def: KindDef, items: Obj[], options: DeleteOptionsBody, opts: WriteOptions): Obj[] {
    const out: Obj[] = [];
    for (const item of items) {
      const m = metaOf(item);
      try {
        const r = this.delete(def, String(m.namespace ?? ''), String(m.name), { ...options, preconditions: undefined }, opts);
        out.push(r.body.kind === 'Status' ? item : r.body);
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 404)) throw e;
      }
    }
    return out;
  }

  /** Seeds the namespaces every cluster has. */
  seedDefaultNamespaces(): void {
    for (const ns of ['default', 'kube-node-lease', 'kube-public', 'kube-system']) {
      if (!this.store.get('namespaces', '', ns)) this.create(namespaceDef, '', { metadata: { name: ns } }, defaultWriteOptions());
    }
  }
}
