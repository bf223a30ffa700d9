// The three PATCH flavours: JSON merge patch (RFC 7386), JSON patch (RFC 6902), and strategic
// merge patch reduced to what the served kinds need (merge patch plus list merge keys and the
// `$patch` / `$setElementOrder` / `$retainKeys` / `$deleteFromPrimitiveList` directives).

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

/** A patch that cannot be read or applied; the registry turns it into a Status. */
export class PatchError extends Error {
  /** 400 for a malformed patch document, 422 for one that cannot be applied. */
  readonly code: 400 | 422;
  constructor(code: 400 | 422, message: string) {
    super(message);
    this.name = 'PatchError';
    this.code = code;
  }
}

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** RFC 7386 JSON merge patch: objects merge, null deletes, anything else replaces. Copies, never mutates `target`. */
export function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return structuredClone(patch);
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k] ?? null, v);
  }
  return out;
}

// ---- JSON patch --------------------------------------------------------------------------------

interface Op {
  op: string;
  path: string;
  from?: string;
  value?: Json;
}

function parsePointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new PatchError(422, `JSON pointer must be empty or start with a "/": ${path}`);
  return path
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function deepEqual(a: Json, b: Json): boolean {
  return JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
}

function sortKeys(v: Json): Json {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (isObject(v)) {
    const out: JsonObject = {};
    for (const k of Object.keys(v).sort()) out[k] = sortKeys(v[k]!);
    return out;
  }
  return v;
}

function arrayIndex(tok: string, len: number, forInsert: boolean, path: string): number {
  if (forInsert && tok === '-') return len;
  if (!/^(0|[1-9]\d*)$/.test(tok)) throw new PatchError(422, `invalid index referenced: ${tok} in ${path}`);
  const i = Number(tok);
  if (forInsert ? i > len : i >= len) throw new PatchError(422, `Unable to access invalid index: ${i}`);
  return i;
}

function container(doc: Json, toks: string[], path: string): Json {
  let cur = doc;
  for (const tok of toks) {
    if (Array.isArray(cur)) cur = cur[arrayIndex(tok, cur.length, false, path)]!;
    else if (isObject(cur) && Object.hasOwn(cur, tok)) cur = cur[tok]!;
    else throw new PatchError(422, `doc is missing path: "${path}": missing value`);
  }
  return cur;
}

function getAt(doc: Json, path: string): Json {
  return container(doc, parsePointer(path), path);
}

function removeAt(doc: Json, path: string): { doc: Json; removed: Json } {
  const toks = parsePointer(path);
  if (toks.length === 0) return { doc: null, removed: doc };
  const parent = container(doc, toks.slice(0, -1), path);
  const last = toks[toks.length - 1]!;
  if (Array.isArray(parent)) {
    const i = arrayIndex(last, parent.length, false, path);
    const [removed] = parent.splice(i, 1);
    return { doc, removed: removed! };
  }
  if (isObject(parent) && Object.hasOwn(parent, last)) {
    const removed = parent[last]!;
    delete parent[last];
    return { doc, removed };
  }
  throw new PatchError(422, `Unable to remove nonexistent key: ${last}: missing value`);
}

function addAt(doc: Json, path: string, value: Json, replace: boolean): Json {
  const toks = parsePointer(path);
  if (toks.length === 0) return value;
  const parent = container(doc, toks.slice(0, -1), path);
  const last = toks[toks.length - 1]!;
  if (Array.isArray(parent)) {
    const i = arrayIndex(last, parent.length, !replace, path);
    if (replace) parent[i] = value;
    else parent.splice(i, 0, value);
  } else if (isObject(parent)) {
    if (replace && !Object.hasOwn(parent, last)) {
      throw new PatchError(422, `replace operation does not apply: doc is missing key: ${path}: missing value`);
    }
    parent[last] = value;
  } else {
    throw new PatchError(422, `doc is missing path: "${path}": missing value`);
  }
  return doc;
}

/** Reads an RFC 6902 document: an array of operations, each with an `op` and a `path` (400 otherwise). */
export function parseJsonPatch(raw: unknown): Op[] {
  if (!Array.isArray(raw)) throw new PatchError(400, 'json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  return raw.map((op) => {
    if (!isObject(op) || typeof op.op !== 'string') throw new PatchError(400, 'Unexpected kind: unknown');
    if (typeof op.path !== 'string') throw new PatchError(400, `operation missing path: ${JSON.stringify(op)}`);
    return op as unknown as Op;
  });
}

/** Applies RFC 6902 operations in order to a copy of `target`; a failed `test` is a 422. */
export function applyJsonPatch(target: Json, ops: Op[]): Json {
  let doc = structuredClone(target);
  for (const op of ops) {
    switch (op.op) {
      case 'add':
        if (!('value' in op)) throw new PatchError(422, 'add operation does not apply: doc is missing value');
        doc = addAt(doc, op.path, structuredClone(op.value!), false);
        break;
      case 'remove':
        doc = removeAt(doc, op.path).doc;
        break;
      case 'replace':
        if (!('value' in op)) throw new PatchError(422, 'replace operation does not apply: doc is missing value');
        doc = addAt(doc, op.path, structuredClone(op.value!), true);
        break;
      case 'move': {
        if (typeof op.from !== 'string') throw new PatchError(422, 'move operation does not apply: doc is missing from path');
        const r = removeAt(doc, op.from);
        doc = addAt(r.doc, op.path, r.removed, false);
        break;
      }
      case 'copy': {
        if (typeof op.from !== 'string') throw new PatchError(422, 'copy operation does not apply: doc is missing from path');
        doc = addAt(doc, op.path, structuredClone(getAt(doc, op.from)), false);
        break;
      }
      case 'test': {
        let actual: Json;
        try {
          actual = getAt(doc, op.path);
        } catch {
          actual = null;
          if (op.value !== null && op.value !== undefined) throw new PatchError(422, `testing value ${op.path} failed: test failed`);
        }
        if (!deepEqual(actual, op.value ?? null)) throw new PatchError(422, `testing value ${op.path} failed: test failed`);
        break;
      }
      default:
        throw new PatchError(422, `Unexpected kind: ${op.op}`);
    }
  }
  return doc;
}

// ---- strategic merge ---------------------------------------------------------------------------

/** List merge strategies by field path (dots; lists are transparent). */
const MERGE_KEYS: Record<string, string | 'primitive'> = {
  'metadata.finalizers': 'primitive',
  'metadata.ownerReferences': 'uid',
  'spec.containers': 'name',
  'spec.initContainers': 'name',
  'spec.containers.ports': 'containerPort',
  'spec.containers.env': 'name',
  'spec.containers.volumeMounts': 'mountPath',
  'spec.volumes': 'name',
  'spec.tolerations': 'key',
  'spec.ports': 'port',
  'spec.finalizers': 'primitive',
};

function strategicMerge(target: Json, patch: Json, path: string): Json {
  if (!isObject(patch)) return structuredClone(patch);
  const directive = patch['$patch'];
  if (directive === 'delete') return null;
  if (directive === 'replace') {
    const copy = { ...patch };
    delete copy['$patch'];
    return copy;
  }
  const out: JsonObject = isObject(target) ? { ...target } : {};
  const retainKeys = Array.isArray(patch['$retainKeys']) ? (patch['$retainKeys'] as string[]) : undefined;
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k === '$retainKeys' || k.startsWith('$setElementOrder/')) continue;
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length);
      const drop = Array.isArray(v) ? v : [];
      const cur = out[field];
      if (Array.isArray(cur)) out[field] = cur.filter((x) => !drop.some((d) => deepEqual(d, x)));
      continue;
    }
    const childPath = path ? `${path}.${k}` : k;
    if (v === null) {
      delete out[k];
    } else if (Array.isArray(v) && MERGE_KEYS[childPath] && Array.isArray(out[k])) {
      out[k] = mergeList(out[k] as Json[], v, MERGE_KEYS[childPath]!, childPath);
    } else if (Array.isArray(v)) {
      out[k] = v.filter((x) => !(isObject(x) && x['$patch'] === 'delete')).map((x) => stripDirectives(x));
    } else if (isObject(v)) {
      const merged = strategicMerge(out[k] ?? null, v, childPath);
      if (merged === null) delete out[k];
      else out[k] = merged;
    } else {
      out[k] = v;
    }
  }
  if (retainKeys) {
    for (const k of Object.keys(out)) if (!retainKeys.includes(k) && !(k in patch)) delete out[k];
  }
  return out;
}

function stripDirectives(v: Json): Json {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (!isObject(v)) return v;
  const out: JsonObject = {};
  for (const [k, x] of Object.entries(v)) if (!k.startsWith('$')) out[k] = stripDirectives(x);
  return out;
}

function mergeList(cur: Json[], patch: Json[], key: string, path: string): Json[] {
  if (key === 'primitive') {
    const out = [...cur];
    for (const item of patch) if (!out.some((x) => deepEqual(x, item))) out.push(item);
    return out;
  }
  const out = cur.map((x) => x);
  for (const item of patch) {
    if (!isObject(item)) continue;
    const idx = out.findIndex((x) => isObject(x) && deepEqual(x[key] ?? null, item[key] ?? null));
    if (item['$patch'] === 'delete') {
      if (idx >= 0) out.splice(idx, 1);
    } else if (idx >= 0) {
      out[idx] = strategicMerge(out[idx]!, item, path);
    } else {
      out.push(stripDirectives(item));
    }
  }
  return out;
}

/** Strategic merge patch: merge patch plus list merge keys and the `$patch`-style directives. */
export function applyStrategicMergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) throw new PatchError(400, 'json: cannot unmarshal array into Go value of type map[string]interface {}');
  return strategicMerge(target, patch, '');
}

export type { Json, JsonObject };
