// Protobuf request bodies (`application/vnd.kubernetes.protobuf`), as kubectl sends them for core
// kinds (`kubectl create configmap`, `kubectl create namespace`, `kubectl create service`).
//
// The body is the `k8s\0` magic followed by a runtime.Unknown envelope (TypeMeta, raw object
// bytes); the raw bytes are the kind's message from k8s.io/api's generated.proto. protobufjs
// decodes the wire format from the message tables below (field numbers as in generated.proto,
// only the kinds this server serves); the result is turned into the JSON form the rest of the
// server decodes, so protobuf and JSON bodies go through the same validation.

import protobuf from 'protobufjs/light.js';

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
};

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
  let decoded: Json;
  try {
    decoded = type.toObject(type.decode(envelope.raw ?? new Uint8Array()), { longs: Number, bytes: String }) as Json;
  } catch (e) {
    throw new ProtobufError(`unable to decode ${kind} from protobuf: ${(e as Error).message}`);
  }
  return { apiVersion, kind, object: { apiVersion, kind, ...toJsonForm(type, decoded) } };
}

/** Protobuf-shaped values to the JSON API's: times as RFC 3339 strings, IntOrString as one value. */
function toJsonForm(type: protobuf.Type, value: Json): Json {
  const out: Json = {};
  for (const [name, fieldValue] of Object.entries(value)) {
    const field = type.fields[name];
    const nested = field?.resolvedType;
    if (!(nested instanceof protobuf.Type) || field instanceof protobuf.MapField) {
      out[name] = fieldValue;
      continue;
    }
    const convert = (v: Json): unknown => convertMessage(nested, v);
    const converted = Array.isArray(fieldValue) ? fieldValue.map((v) => convert(v as Json)) : convert(fieldValue as Json);
    if (converted !== undefined) out[name] = converted;
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
  return toJsonForm(type, value);
}
