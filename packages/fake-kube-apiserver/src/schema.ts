// A small model of the Go structs behind the served kinds. Decoding a request body through it
// does what the real server's JSON decoder does: type errors become 400s, unknown fields are
// collected (dropped with a warning, or rejected under fieldValidation=Strict), times are parsed
// as strictly as Go does, and the result is re-encoded in Go's field order with `omitempty`
// honoured, so responses are byte-for-byte shaped like the real ones.

import { canonicalMicroTime, canonicalTime } from './time.ts';

export type Schema =
  | { type: 'string' }
  | { type: 'int32' }
  | { type: 'int64' }
  | { type: 'bool' }
  | { type: 'microtime' }
  | { type: 'time' }
  | { type: 'any' }
  | { type: 'object'; goName: string; fields: FieldSpec[]; preserveUnknown?: boolean }
  | { type: 'map'; values: Schema }
  | { type: 'array'; items: Schema };

/**
 * How Go encodes the field: `omitempty` drops zero values, `pointer` drops only nil (an explicit
 * `""` or `0` is kept), `always` emits the zero value (`null` for a zero time, `{}` for a struct).
 */
export type Emit = 'omitempty' | 'pointer' | 'always';

export interface FieldSpec {
  name: string;
  schema: Schema;
  emit: Emit;
}

/** Schema constructors, so a kind's Go struct reads like its definition (`S.object('LeaseSpec', [...])`). */
export const S = {
  string: { type: 'string' } as Schema,
  int32: { type: 'int32' } as Schema,
  int64: { type: 'int64' } as Schema,
  bool: { type: 'bool' } as Schema,
  microtime: { type: 'microtime' } as Schema,
  time: { type: 'time' } as Schema,
  any: { type: 'any' } as Schema,
  object(goName: string, fields: FieldSpec[], preserveUnknown = false): Schema {
    return { type: 'object', goName, fields, preserveUnknown };
  },
  map(values: Schema): Schema {
    return { type: 'map', values };
  },
  array(items: Schema): Schema {
    return { type: 'array', items };
  },
};

/** One struct field: JSON name, schema and how Go encodes it when empty. */
export function f(name: string, schema: Schema, emit: Emit = 'omitempty'): FieldSpec {
  return { name, schema, emit };
}

/** A body that Go's JSON decoder would reject, with its message. */
export class DecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecodeError';
  }
}

export interface DecodeResult {
  value: Record<string, unknown>;
  unknownFields: string[];
}

const GO_TYPES: Record<string, string> = {
  string: 'string',
  int32: 'int32',
  int64: 'int64',
  bool: 'bool',
  microtime: 'v1.MicroTime',
  time: 'v1.Time',
};

function jsonTypeName(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'object') return 'object';
  if (typeof v === 'number') return `number ${String(v)}`;
  return typeof v;
}

/** What a decode carries down the tree: unknown fields found, and the Go struct being filled (for messages). */
interface DecodeState {
  unknown: string[];
  structName: string;
}

function isZero(v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (v === '' || v === 0 || v === false) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.keys(v).length === 0;
  return false;
}

function zeroOf(schema: Schema): unknown {
  switch (schema.type) {
    case 'string':
      return '';
    case 'int32':
    case 'int64':
      return 0;
    case 'bool':
      return false;
    case 'microtime':
    case 'time':
    case 'any':
    case 'map':
    case 'array':
      return null;
    case 'object':
      return decodeObject({}, schema, '', { unknown: [], structName: schema.goName });
  }
}

function typeError(v: unknown, state: DecodeState, path: string, goType: string): DecodeError {
  return new DecodeError(
    `json: cannot unmarshal ${jsonTypeName(v).split(' ')[0]} into Go struct field ${state.structName}.${path} of type ${goType}`,
  );
}

function decodeValue(v: unknown, schema: Schema, path: string, state: DecodeState): unknown {
  if (v === null || v === undefined) return undefined;
  switch (schema.type) {
    case 'any':
      return v;
    case 'string':
      if (typeof v !== 'string') throw typeError(v, state, path, 'string');
      return v;
    case 'bool':
      if (typeof v !== 'boolean') throw typeError(v, state, path, 'bool');
      return v;
    case 'int32':
    case 'int64': {
      if (typeof v !== 'number') throw typeError(v, state, path, schema.type);
      const limit = schema.type === 'int32' ? 2 ** 31 : 2 ** 63;
      if (!Number.isInteger(v) || v >= limit || v < -limit) {
        throw new DecodeError(
          `json: cannot unmarshal number ${String(v)} into Go struct field ${state.structName}.${path} of type ${schema.type}`,
        );
      }
      return v;
    }
    case 'microtime':
    case 'time': {
      if (typeof v !== 'string') throw typeError(v, state, path, GO_TYPES[schema.type]!);
      try {
        return schema.type === 'microtime' ? canonicalMicroTime(v) : canonicalTime(v);
      } catch (e) {
        throw new DecodeError((e as Error).message);
      }
    }
    case 'map': {
      if (typeof v !== 'object' || Array.isArray(v)) throw typeError(v, state, path, 'map[string]string');
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(v).sort()) {
        const d = decodeValue((v as Record<string, unknown>)[key], schema.values, path, state);
        out[key] = d === undefined ? zeroOf(schema.values) : d;
      }
      return out;
    }
    case 'array': {
      if (!Array.isArray(v)) throw typeError(v, state, path, `[]${schema.items.type === 'object' ? schema.items.goName : schema.items.type}`);
      return v.map((item, i) => {
        const d = decodeValue(item, schema.items, `${path}[${i}]`, state);
        return d === undefined ? zeroOf(schema.items) : d;
      });
    }
    case 'object': {
      if (typeof v !== 'object' || Array.isArray(v)) throw typeError(v, state, path, schema.goName);
      return decodeObject(v as Record<string, unknown>, schema, path, state);
    }
  }
}

function decodeObject(
  v: Record<string, unknown>,
  schema: Extract<Schema, { type: 'object' }>,
  path: string,
  state: DecodeState,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const known = new Set<string>();
  const outer = state.structName;
  state.structName = schema.goName;
  for (const field of schema.fields) {
    known.add(field.name);
    const childPath = path ? `${path}.${field.name}` : field.name;
    const decoded = decodeValue(v[field.name], field.schema, childPath, state);
    if (field.emit === 'always') {
      out[field.name] = decoded === undefined ? zeroOf(field.schema) : decoded;
    } else if (field.emit === 'pointer') {
      if (decoded !== undefined) out[field.name] = decoded;
    } else if (!isZero(decoded)) {
      out[field.name] = decoded;
    }
  }
  for (const key of Object.keys(v)) {
    if (known.has(key)) continue;
    if (schema.preserveUnknown) out[key] = v[key];
    else state.unknown.push(path ? `${path}.${key}` : key);
  }
  state.structName = outer;
  return out;
}

/** Decodes a whole object body against the schema of its kind. */
export function decode(body: Record<string, unknown>, schema: Schema): DecodeResult {
  if (schema.type !== 'object') throw new Error('top-level schema must be an object');
  const state: DecodeState = { unknown: [], structName: schema.goName };
  const value = decodeObject(body, schema, '', state);
  return { value, unknownFields: state.unknown };
}

/** Re-encodes an already valid object in canonical order (used after patches and defaulting). */
export function canonicalize(obj: Record<string, unknown>, schema: Schema): Record<string, unknown> {
  return decode(obj, schema).value;
}
