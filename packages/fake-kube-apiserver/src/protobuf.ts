// Protobuf request bodies (`application/vnd.kubernetes.protobuf`), as kubectl sends them for core
// kinds (`kubectl create configmap`, `kubectl create namespace`, `kubectl create service`,
// `kubectl debug --copy-to` for a Pod).
//
// The body is the `k8s\0` magic followed by a runtime.Unknown envelope (TypeMeta, raw object
// bytes); the raw bytes are the kind's message from k8s.io/api's generated.proto. protobufjs
// decodes the wire format from the message tables below (field numbers as in generated.proto,
// only the kinds this server serves); the result is turned into the JSON form the rest of the
// server decodes, so protobuf and JSON bodies go through the same validation.

import protobuf from 'protobufjs/light.js';
import { POD_SPEC_MESSAGES } from './protobuf-pod-spec.ts';

type Json = Record<string, unknown>;

/** The `k8s\0` prefix of every Kubernetes protobuf document. */
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

const str = (id: number) => ({ type: 'string', id });
const int32 = (id: number) => ({ type: 'int32', id });
const int64 = (id: number) => ({ type: 'int64', id });
const bool = (id: number) => ({ type: 'bool', id });
const msg = (type: string, id: number) => ({ type, id });
const repeated = (type: string, id: number) => ({ rule: 'repeated', type, id });
const stringMap = (id: number, type = 'string') => ({ keyType: 'string', type, id });

const MESSAGES: Record<string, { fields: Record<string, object> }> = {
  Unknown: { fields: { typeMeta: msg('TypeMeta', 1), raw: { type: 'bytes', id: 2 }, contentEncoding: str(3), contentType: str(4) } },
  TypeMeta: { fields: { apiVersion: str(1), kind: str(2) } },
  Time: { fields: { seconds: int64(1), nanos: int32(2) } },
  MicroTime: { fields: { seconds: int64(1), nanos: int32(2) } },
  IntOrString: { fields: { type: int64(1), intVal: int32(2), strVal: str(3) } },
  ObjectMeta: {
    fields: {
      name: str(1),
      generateName: str(2),
      namespace: str(3),
      selfLink: str(4),
      uid: str(5),
      resourceVersion: str(6),
      generation: int64(7),
      creationTimestamp: msg('Time', 8),
      deletionTimestamp: msg('Time', 9),
      deletionGracePeriodSeconds: int64(10),
      labels: stringMap(11),
      annotations: stringMap(12),
      ownerReferences: repeated('OwnerReference', 13),
      finalizers: repeated('string', 14),
    },
  },
  OwnerReference: { fields: { kind: str(1), name: str(3), uid: str(4), apiVersion: str(5), controller: bool(6), blockOwnerDeletion: bool(7) } },
  ObjectReference: { fields: { kind: str(1), namespace: str(2), name: str(3), uid: str(4), apiVersion: str(5), resourceVersion: str(6), fieldPath: str(7) } },
  ConfigMap: { fields: { metadata: msg('ObjectMeta', 1), data: stringMap(2), binaryData: stringMap(3, 'bytes'), immutable: bool(4) } },
  Namespace: { fields: { metadata: msg('ObjectMeta', 1), spec: msg('NamespaceSpec', 2), status: msg('NamespaceStatus', 3) } },
  NamespaceSpec: { fields: { finalizers: repeated('string', 1) } },
  NamespaceStatus: { fields: { phase: str(1) } },
  Endpoints: { fields: { metadata: msg('ObjectMeta', 1), subsets: repeated('EndpointSubset', 2) } },
  EndpointSubset: { fields: { addresses: repeated('EndpointAddress', 1), notReadyAddresses: repeated('EndpointAddress', 2), ports: repeated('EndpointPort', 3) } },
  EndpointAddress: { fields: { ip: str(1), targetRef: msg('ObjectReference', 2), hostname: str(3), nodeName: str(4) } },
  EndpointPort: { fields: { name: str(1), port: int32(2), protocol: str(3), appProtocol: str(4) } },
  Service: { fields: { metadata: msg('ObjectMeta', 1), spec: msg('ServiceSpec', 2) } },
  ServiceSpec: {
    fields: {
      ports: repeated('ServicePort', 1),
      selector: stringMap(2),
      clusterIP: str(3),
      type: str(4),
      externalIPs: repeated('string', 5),
      sessionAffinity: str(7),
      externalName: str(10),
      clusterIPs: repeated('string', 18),
    },
  },
  ServicePort: { fields: { name: str(1), protocol: str(2), port: int32(3), targetPort: msg('IntOrString', 4), nodePort: int32(5), appProtocol: str(6) } },
  Lease: { fields: { metadata: msg('ObjectMeta', 1), spec: msg('LeaseSpec', 2) } },
  LeaseSpec: {
    fields: {
      holderIdentity: str(1),
      leaseDurationSeconds: int32(2),
      acquireTime: msg('MicroTime', 3),
      renewTime: msg('MicroTime', 4),
      leaseTransitions: int32(5),
      strategy: str(6),
      preferredHolder: str(7),
    },
  },
  DeleteOptions: {
    fields: {
      gracePeriodSeconds: int64(1),
      preconditions: msg('Preconditions', 2),
      orphanDependents: bool(3),
      propagationPolicy: str(4),
      dryRun: repeated('string', 5),
    },
  },
  Preconditions: { fields: { uid: str(1), resourceVersion: str(2) } },
  // A Pod's status is reset on create, as a real server does: it is carried as bytes and dropped.
  Pod: { fields: { metadata: msg('ObjectMeta', 1), spec: msg('PodSpec', 2), status: { type: 'bytes', id: 3 } } },
  Quantity: { fields: { string: str(1) } },
  LabelSelector: { fields: { matchLabels: stringMap(1), matchExpressions: repeated('LabelSelectorRequirement', 2) } },
  LabelSelectorRequirement: { fields: { key: str(1), operator: str(2), values: repeated('string', 3) } },
};

/** How the JSON form of a generated message differs from its protobuf fields (see protobuf-pod-spec.ts). */
interface JsonRules {
  inline: Set<string>;
  keepZero: Set<string>;
}
const JSON_RULES = new Map<string, JsonRules>();
for (const [name, fields] of Object.entries(POD_SPEC_MESSAGES)) {
  const rules: JsonRules = { inline: new Set(), keepZero: new Set() };
  const table: Record<string, object> = {};
  for (const field of fields) {
    const [fieldName, id, type, flags = ''] = field.split(' ') as [string, string, string, string?];
    table[fieldName] = flags.includes('m') ? stringMap(Number(id), type) : flags.includes('r') ? repeated(type, Number(id)) : { type, id: Number(id) };
    if (flags.includes('i')) rules.inline.add(fieldName);
    if (flags.includes('k')) rules.keepZero.add(fieldName);
  }
  MESSAGES[name] = { fields: table };
  JSON_RULES.set(name, rules);
}
/**
 * Kinds whose tables cover every field of k8s.io/api: a field they do not know is refused
 * rather than silently dropped. (The hand-written tables above cover what kubectl's create
 * commands fill in, and skip the rest, such as a Service's empty status.)
 */
const COMPLETE_KINDS = new Set(['Pod']);

const root = protobuf.Root.fromJSON({ nested: { k8s: { nested: MESSAGES as protobuf.INamespace['nested'] } } });
const envelopeType = root.lookupType('k8s.Unknown');

/** A protobuf body this server cannot read (the caller answers 400 or 415). */
export class ProtobufError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtobufError';
  }
}

export interface DecodedProtobuf {
  apiVersion: string;
  kind: string;
  /** The object in its JSON form (apiVersion and kind included). */
  object: Json;
}

/** Whether a kind (`ConfigMap`, `DeleteOptions`, ...) can be read from protobuf here. */
export function protobufKindSupported(kind: string): boolean {
  return kind in MESSAGES && kind !== 'Unknown';
}

/** Unwraps the envelope and decodes the object it carries into its JSON form. */
export function decodeProtobuf(body: Buffer): DecodedProtobuf {
  if (body.length < MAGIC.length || !body.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new ProtobufError('provided object is not a protobuf document: the "k8s\\x00" prefix is missing');
  }
  let envelope: { typeMeta?: { apiVersion?: string; kind?: string }; raw?: Uint8Array };
  try {
    envelope = envelopeType.toObject(envelopeType.decode(body.subarray(MAGIC.length)), { longs: Number }) as typeof envelope;
  } catch (e) {
    throw new ProtobufError(`unable to decode the protobuf envelope: ${(e as Error).message}`);
  }
  const apiVersion = envelope.typeMeta?.apiVersion ?? '';
  const kind = envelope.typeMeta?.kind ?? '';
  if (!protobufKindSupported(kind)) throw new ProtobufError(`no protobuf decoding of ${kind || 'an object without kind'} in this server`);
  const type = root.lookupType(`k8s.${kind}`);
  const raw = envelope.raw ?? new Uint8Array();
  let decoded: Json;
  try {
    const message = type.decode(raw);
    // protobufjs skips fields it has no number for; re-encoding shows whether any were skipped.
    if (COMPLETE_KINDS.has(kind) && type.encode(message).finish().length !== raw.length) {
      // "no protobuf decoding" makes it a 415, as for a kind without a table: the client may send JSON.
      throw new ProtobufError(`no protobuf decoding of some fields of this ${kind} in this server (newer than kubernetes/api 10b39a39b?)`);
    }
    decoded = type.toObject(message, { longs: Number, bytes: String }) as Json;
  } catch (e) {
    if (e instanceof ProtobufError) throw e;
    throw new ProtobufError(`unable to decode ${kind} from protobuf: ${(e as Error).message}`);
  }
  if (kind === 'Pod') delete decoded.status;
  return { apiVersion, kind, object: { apiVersion, kind, ...toJsonForm(type, decoded) } };
}

/** Protobuf-shaped values to the JSON API's: times as RFC 3339 strings, IntOrString as one value. */
function toJsonForm(type: protobuf.Type, value: Json): Json {
  const out: Json = {};
  const rules = JSON_RULES.get(type.name);
  for (const [name, fieldValue] of Object.entries(value)) {
    if (rules && !rules.keepZero.has(name) && (fieldValue === '' || fieldValue === 0 || fieldValue === false)) continue;
    const field = type.fields[name];
    const nested = field?.resolvedType;
    if (!(nested instanceof protobuf.Type)) {
      out[name] = fieldValue;
      continue;
    }
    const convert = (v: unknown): unknown => convertMessage(nested, v as Json);
    const converted =
      field instanceof protobuf.MapField
        ? Object.fromEntries(Object.entries(fieldValue as Json).map(([k, v]) => [k, convert(v)]))
        : Array.isArray(fieldValue)
          ? fieldValue.map(convert)
          : convert(fieldValue);
    if (converted === undefined) continue;
    if (rules?.inline.has(name)) Object.assign(out, converted);
    else out[name] = converted;
  }
  return out;
}

function convertMessage(type: protobuf.Type, value: Json): unknown {
  if (type.name === 'Time' || type.name === 'MicroTime') {
    // An empty Time is Go's zero time, which the JSON form writes as null (or leaves out).
    if (value.seconds === undefined && value.nanos === undefined) return undefined;
    const seconds = Number(value.seconds ?? 0);
    const iso = new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, '');
    if (type.name === 'Time') return `${iso}Z`;
    const micros = Math.floor(Number(value.nanos ?? 0) / 1000);
    return `${iso}.${String(micros).padStart(6, '0')}Z`;
  }
  if (type.name === 'IntOrString') return Number(value.type ?? 0) === 1 ? (value.strVal ?? '') : (value.intVal ?? 0);
  if (type.name === 'Quantity') return value.string ?? '0';
  return toJsonForm(type, value);
}
