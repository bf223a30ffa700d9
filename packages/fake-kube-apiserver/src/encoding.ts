// JSON encoding of stored objects, computed once per object version.
//
// The store never changes an object after writing it (every write stores a new object), so the
// JSON of a stored object is a pure function of its identity. The write's response, later GETs
// and lists, and every watcher that receives the change all reuse one encoding instead of
// serializing the same object again per request and per watcher.

const storedObjects = new WeakSet<object>();
const objectJson = new WeakMap<object, string>();
const itemJson = new WeakMap<object, string>();

/** Marks an object as written by the store: from now on it is never modified. */
export function markStored(obj: object): void {
  storedObjects.add(obj);
}

/** True for an object the store wrote (and so may be encoded once and shared). */
export function isStored(obj: object): boolean {
  return storedObjects.has(obj);
}

/** `JSON.stringify(obj)`, memoized for stored objects. */
export function encodeObject(obj: object): string {
  if (!storedObjects.has(obj)) return JSON.stringify(obj);
  let json = objectJson.get(obj);
  if (json === undefined) {
    json = JSON.stringify(obj);
    objectJson.set(obj, json);
  }
  return json;
}

/** The JSON of an object as a list item: without `kind` and `apiVersion`, as the real server's lists. */
export function encodeListItem(obj: Record<string, unknown>): string {
  let json = storedObjects.has(obj) ? itemJson.get(obj) : undefined;
  if (json !== undefined) return json;
  const { kind: _kind, apiVersion: _apiVersion, ...item } = obj;
  json = JSON.stringify(item);
  if (storedObjects.has(obj)) itemJson.set(obj, json);
  return json;
}

/** A list document assembled from already encoded items (`items` may be empty, never null). */
export function encodeList(head: Record<string, unknown>, items: Record<string, unknown>[]): string {
  const headJson = JSON.stringify(head);
  return `${headJson.slice(0, -1)},"items":[${items.map(encodeListItem).join(',')}]}`;
}
