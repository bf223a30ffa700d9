// The REST semantics of the generic registry store (k8s.io/apiserver/pkg/registry/generic/registry):
// create, get, list, update, delete and deletecollection with the real server's optimistic
// concurrency, system fields, defaulting, validation and error statuses. No HTTP here; PATCH is
// in registry-patch.ts, body decoding and API/storage forms in object-codec.ts.
//
// Every operation runs synchronously from its read to its write, so on Node's single thread each
// compare-and-swap is atomic: of many concurrent updates carrying the same resourceVersion exactly
// one wins and the others get 409 Conflict.

import { randomUUID } from 'node:crypto';
import { encodeObject } from './encoding.ts';
import { KINDS, type KindDef, type Obj } from './kinds/index.ts';
import {
  decodeBody,
  defaultWriteOptions,
  externalCopy,
  externalView,
  groupResource,
  metaOf,
  nameMismatch,
  namespaceMismatch,
  parseResourceVersion,
  toStorage,
  type WriteOptions,
} from './object-codec.ts';
import { patchObject, type PatchTarget, type WriteResult } from './registry-patch.ts';
import { canonicalize } from './schema.ts';
import {
  ApiError,
  alreadyExists,
  conflict,
  fieldErr,
  internalError,
  invalid,
  notFound,
  successStatus,
  type FieldError,
} from './status.ts';
import type { Store } from './store.ts';
import { nowTime } from './time.ts';
import { validateObjectMeta, validateObjectMetaUpdate } from './validation.ts';

export { defaultWriteOptions, type FieldValidation, type WriteOptions } from './object-codec.ts';
export type { WriteResult } from './registry-patch.ts';

export interface RegistryOptions {
  /**
   * Creating an object in a namespace that does not exist creates the namespace (a convenience
   * for demos); false is the real server's behaviour, a 404 `namespaces "x" not found`.
   */
  autoCreateNamespaces: boolean;
}

/** The DeleteOptions fields the registry honours. */
export interface DeleteOptionsBody {
  preconditions?: { uid?: string; resourceVersion?: string };
  gracePeriodSeconds?: number;
  propagationPolicy?: string;
  orphanDependents?: boolean;
  dryRun?: string[];
}

const namespaceDef = KINDS.find((k) => k.resource === 'namespaces' && k.group === '')!;
const DEFAULT_NAMESPACES = ['default', 'kube-node-lease', 'kube-public', 'kube-system'];

/** The consonants and digits of apimachinery's SimpleNameGenerator (no vowels: no words). */
const NAME_CHARS = 'bcdfghjklmnpqrstvwxz2456789';

function generateName(prefix: string): string {
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += NAME_CHARS[Math.floor(Math.random() * NAME_CHARS.length)];
  return `${prefix.slice(0, 63 - 5)}${suffix}`;
}

/** Places a decoded body in the request's namespace (or none, for cluster-scoped kinds). */
function placeInNamespace(def: KindDef, obj: Obj, namespace: string): void {
  const meta = metaOf(obj);
  if (!def.namespaced) {
    delete meta.namespace;
    return;
  }
  if (meta.namespace && meta.namespace !== namespace) namespaceMismatch();
  meta.namespace = namespace;
}

/** The generic registry for every served kind; per-kind behaviour comes from its KindDef strategy. */
export class Registry implements PatchTarget {
  private readonly store: Store;
  private readonly options: RegistryOptions;
  private nextServiceIp = 1;

  constructor(store: Store, options: RegistryOptions) {
    this.store = store;
    this.options = options;
  }

  // ---- representation ---------------------------------------------------------------------

  /** A stored object as this def's API serves it (a fresh copy the caller may change). */
  external(def: KindDef, stored: Obj): Obj {
    return externalCopy(def, stored);
  }

  /** A stored object as this def's API serves it, read-only (see externalView). */
  view(def: KindDef, stored: Obj): Obj {
    return externalView(def, stored);
  }

  // ---- reads ------------------------------------------------------------------------------

  getStored(def: KindDef, namespace: string, name: string): Obj | undefined {
    return this.store.get(def.storageKey, def.namespaced ? namespace : '', name);
  }

  /** GET: the object, or its kind's NotFound (also when the namespace itself does not exist). */
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

  /** Namespace lifecycle admission: a namespaced object needs its namespace to exist. */
  private ensureNamespace(def: KindDef, namespace: string, dryRun: boolean): void {
    if (!def.namespaced || this.store.get('namespaces', '', namespace)) return;
    if (!this.options.autoCreateNamespaces) throw notFound({ group: '', resource: 'namespaces' }, namespace);
    if (!dryRun) this.create(namespaceDef, '', { metadata: { name: namespace } }, defaultWriteOptions());
  }

  private systemFieldsForCreate(def: KindDef, obj: Obj): void {
    const meta = metaOf(obj);
    meta.uid = randomUUID();
    meta.creationTimestamp = nowTime();
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    delete meta.managedFields;
    delete meta.selfLink;
    if (def.tracksGeneration) meta.generation = 1;
    else delete meta.generation;
  }

  private validateCreate(def: KindDef, obj: Obj): void {
    const meta = metaOf(obj);
    const errs: FieldError[] = [...(def.validate?.(obj) ?? [])];
    errs.push(...validateObjectMeta(meta, { namespaced: def.namespaced, nameValidator: def.nameValidator }));
    if (errs.length) throw invalid({ group: def.group, kind: def.kind }, String(meta.name ?? ''), errs);
  }

  /** POST: create a request body in `namespace`. Returns the external form. */
  create(def: KindDef, namespace: string, body: unknown, options: WriteOptions): Obj {
    const obj = decodeBody(def, body, options);
    placeInNamespace(def, obj, namespace);
    const meta = metaOf(obj);
    if (meta.resourceVersion) throw internalError('resourceVersion should not be set on objects to be created');
    if (!meta.name && typeof meta.generateName === 'string' && meta.generateName) meta.name = generateName(meta.generateName);
    return this.createPrepared(def, obj, options);
  }

  /** The create path shared by POST, create-on-update PUTs and apply. */
  createPrepared(def: KindDef, obj: Obj, options: WriteOptions): Obj {
    const namespace = def.namespaced ? String(metaOf(obj).namespace ?? '') : '';
    if (def.namespaced && namespace) this.ensureNamespace(def, namespace, options.dryRun);
    this.systemFieldsForCreate(def, obj);
    def.prepareForCreate?.(obj, { allocateClusterIP: () => this.allocateClusterIP() });
    const prepared = canonicalize(obj, def.schema);
    this.validateCreate(def, prepared);
    const name = String(metaOf(prepared).name);
    const existing = this.store.get(def.storageKey, namespace, name);
    if (existing) {
      const err = alreadyExists(groupResource(def), name);
      if (metaOf(existing).deletionTimestamp) err.status.message = `object is being deleted: ${err.status.message ?? ''}`;
      throw err;
    }
    if (options.dryRun) return prepared;
    return this.view(def, this.store.create(def.storageKey, toStorage(def, prepared)));
  }

  private allocateClusterIP(): string {
    const n = this.nextServiceIp++;
    return `10.96.${Math.floor(n / 254) % 256}.${(n % 254) + 1}`;
  }

  // ---- update -----------------------------------------------------------------------------

  /** PUT. `created` tells a create-on-update apart (201). */
  update(def: KindDef, namespace: string, name: string, body: unknown, options: WriteOptions): WriteResult {
    const obj = decodeBody(def, body, options);
    const meta = metaOf(obj);
    if ((meta.name ?? '') !== name) nameMismatch(meta.name, name);
    placeInNamespace(def, obj, namespace);
    return this.updatePrepared(def, namespace, name, obj, options);
  }

  /** The uid and resourceVersion preconditions of an update, per the kind's strategy. */
  private checkUpdatePreconditions(def: KindDef, name: string, meta: Obj, storedMeta: Obj): void {
    const resource = groupResource(def);
    if (meta.uid && meta.uid !== storedMeta.uid) {
      throw conflict(resource, name, `Precondition failed: UID in precondition: ${String(meta.uid)}, UID in object meta: ${String(storedMeta.uid)}`);
    }
    const requestedRv = parseResourceVersion(meta.resourceVersion);
    if (requestedRv === 0) {
      if (!def.allowUnconditionalUpdate) {
        throw invalid({ group: def.group, kind: def.resource }, name, [fieldErr.invalid('metadata.resourceVersion', 0, 'must be specified for an update')]);
      }
    } else if (requestedRv !== parseResourceVersion(storedMeta.resourceVersion)) {
      throw conflict(resource, name);
    }
  }

  /** BeforeUpdate: system fields come from the stored object, whatever the body says. */
  private carrySystemFields(def: KindDef, obj: Obj, existing: Obj): void {
    const meta = metaOf(obj);
    const storedMeta = metaOf(existing);
    meta.uid = storedMeta.uid;
    meta.creationTimestamp = storedMeta.creationTimestamp;
    meta.resourceVersion = storedMeta.resourceVersion;
    delete meta.managedFields;
    delete meta.selfLink;
    for (const field of ['deletionTimestamp', 'deletionGracePeriodSeconds']) {
      if (storedMeta[field] !== undefined) meta[field] = storedMeta[field];
      else delete meta[field];
    }
    if (def.tracksGeneration) meta.generation = storedMeta.generation ?? 1;
    else if (storedMeta.generation !== undefined) meta.generation = storedMeta.generation;
    else delete meta.generation;
    if (def.preservesStatus) obj.status = existing.status;
    def.prepareForUpdate?.(obj, existing);
    if (def.tracksGeneration && JSON.stringify(obj.spec ?? null) !== JSON.stringify(existing.spec ?? null)) {
      meta.generation = Number(storedMeta.generation ?? 1) + 1;
    }
  }

  private validateUpdate(def: KindDef, name: string, prepared: Obj, existing: Obj): void {
    const meta = metaOf(prepared);
    const errs: FieldError[] = [
      ...(def.validateUpdate?.(prepared, existing) ?? []),
      // The name cannot change on update, so its format was checked at create.
      ...validateObjectMeta(meta, { namespaced: def.namespaced, nameValidator: def.nameValidator }).filter((e) => e.field !== 'metadata.name'),
      ...validateObjectMetaUpdate(meta, metaOf(existing)),
    ];
    if (errs.length) throw invalid({ group: def.group, kind: def.kind }, name, errs);
  }

  /** The update path shared by PUT, PATCH and apply: a decoded object for `namespace/name`. */
  updatePrepared(def: KindDef, namespace: string, name: string, obj: Obj, options: WriteOptions): WriteResult {
    const storedNamespace = def.namespaced ? namespace : '';
    const stored = this.store.get(def.storageKey, storedNamespace, name);
    if (!stored) {
      if (!def.allowCreateOnUpdate) throw notFound(groupResource(def), name);
      delete metaOf(obj).resourceVersion;
      return { obj: this.createPrepared(def, obj, options), created: true };
    }
    const existing = this.view(def, stored);
    this.checkUpdatePreconditions(def, name, metaOf(obj), metaOf(existing));
    this.carrySystemFields(def, obj, existing);
    const prepared = canonicalize(obj, def.schema);
    this.validateUpdate(def, name, prepared, existing);

    // An update that removes the last finalizer of an object being deleted deletes it.
    const preparedMeta = metaOf(prepared);
    if (preparedMeta.deletionTimestamp && !(preparedMeta.finalizers as string[] | undefined)?.length) {
      if (options.dryRun) return { obj: prepared, created: false };
      this.store.update(def.storageKey, toStorage(def, prepared));
      const last = this.store.delete(def.storageKey, storedNamespace, name)!;
      return { obj: this.view(def, last), created: false };
    }
    // A write that changes nothing is not a write: same resourceVersion, no watch event. Both are
    // in canonical field order and carry the stored resourceVersion, so equal JSON means no change.
    if (JSON.stringify(prepared) === encodeObject(existing)) return { obj: existing, created: false };
    if (options.dryRun) return { obj: prepared, created: false };
    return { obj: this.view(def, this.store.update(def.storageKey, toStorage(def, prepared))), created: false };
  }

  /** PATCH with one of the four patch content types (see registry-patch.ts). */
  patch(def: KindDef, namespace: string, name: string, contentType: string, rawBody: string, options: WriteOptions): WriteResult {
    return patchObject(this, def, namespace, name, contentType, rawBody, options);
  }

  // ---- delete -----------------------------------------------------------------------------

  /** DELETE: the deleted object (for kinds that return it) or a Success Status. */
  delete(def: KindDef, namespace: string, name: string, deleteOptions: DeleteOptionsBody, options: WriteOptions): { body: Obj; code: number } {
    const storedNamespace = def.namespaced ? namespace : '';
    const stored = this.store.get(def.storageKey, storedNamespace, name);
    const resource = groupResource(def);
    if (!stored) throw notFound(resource, name);
    const current = this.view(def, stored);
    const currentMeta = metaOf(current);
    const preconditions = deleteOptions.preconditions ?? {};
    if (preconditions.uid && preconditions.uid !== currentMeta.uid) {
      throw conflict(resource, name, `Precondition failed: UID in precondition: ${preconditions.uid}, UID in object meta: ${String(currentMeta.uid)}`);
    }
    if (preconditions.resourceVersion && preconditions.resourceVersion !== currentMeta.resourceVersion) {
      throw conflict(
        resource,
        name,
        `Precondition failed: ResourceVersion in precondition: ${preconditions.resourceVersion}, ResourceVersion in object meta: ${String(currentMeta.resourceVersion)}`,
      );
    }
    const success = (): Obj => successStatus({ name, group: def.group, kind: def.resource, uid: String(currentMeta.uid) }) as Obj;
    if (((currentMeta.finalizers as string[] | undefined) ?? []).length > 0) {
      // Graceful: mark for deletion; the object goes when its finalizers are removed.
      if (currentMeta.deletionTimestamp) return { body: current, code: 200 };
      const marked = structuredClone(current);
      metaOf(marked).deletionTimestamp = nowTime();
      metaOf(marked).deletionGracePeriodSeconds = 0;
      if (options.dryRun) return { body: marked, code: 200 };
      const updated = this.store.update(def.storageKey, toStorage(def, canonicalize(marked, def.schema)));
      return { body: this.view(def, updated), code: 200 };
    }
    if (options.dryRun) return { body: def.returnDeletedObject ? current : success(), code: 200 };
    if (def === namespaceDef) this.deleteNamespaceContents(name);
    const last = this.store.delete(def.storageKey, storedNamespace, name)!;
    if (!def.returnDeletedObject) return { body: success(), code: 200 };
    const out = this.external(def, last);
    if (def === namespaceDef) {
      // What a client sees of a namespace deletion: the namespace, terminating.
      metaOf(out).deletionTimestamp = nowTime();
      out.status = { phase: 'Terminating' };
    }
    return { body: out, code: 200 };
  }

  /** What the namespace controller does, at once: every object in the namespace is deleted. */
  private deleteNamespaceContents(namespace: string): void {
    const seen = new Set<string>();
    for (const def of KINDS) {
      if (!def.namespaced || seen.has(def.storageKey)) continue;
      seen.add(def.storageKey);
      for (const obj of this.store.list(def.storageKey, namespace)) this.store.delete(def.storageKey, namespace, String(metaOf(obj).name));
    }
  }

  /** DELETE on a collection: deletes what matches and returns the deleted objects. */
  deleteCollection(def: KindDef, items: Obj[], deleteOptions: DeleteOptionsBody, options: WriteOptions): Obj[] {
    const deleted: Obj[] = [];
    for (const item of items) {
      const meta = metaOf(item);
      try {
        const result = this.delete(def, String(meta.namespace ?? ''), String(meta.name), { ...deleteOptions, preconditions: undefined }, options);
        deleted.push(result.body.kind === 'Status' ? item : result.body);
      } catch (e) {
        // Gone in the meantime (e.g. with its namespace): nothing to report.
        if (!(e instanceof ApiError && e.code === 404)) throw e;
      }
    }
    return deleted;
  }

  /** Seeds the namespaces every cluster has. */
  seedDefaultNamespaces(): void {
    for (const name of DEFAULT_NAMESPACES) {
      if (!this.store.get('namespaces', '', name)) this.create(namespaceDef, '', { metadata: { name } }, defaultWriteOptions());
    }
  }
}
