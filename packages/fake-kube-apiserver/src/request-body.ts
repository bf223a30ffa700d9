// Request bodies to values: JSON, or the protobuf kubectl sends for core kinds. Both end up as the
// same JSON-shaped object, so the registry decodes and validates them alike.

import type { IncomingMessage } from 'node:http';
import { mediaType, parseJsonBody } from './http-io.ts';
import type { KindDef } from './kinds/index.ts';
import { decodeProtobuf, ProtobufError } from './protobuf.ts';
import { badRequest, OBJECT_MEDIA_TYPES, unsupportedMediaType } from './status.ts';

const PROTOBUF = 'application/vnd.kubernetes.protobuf';

function isJson(type: string): boolean {
  return type === '' || type === 'application/json' || type === '*/*';
}

function fromProtobuf(body: Buffer, what: string): unknown {
  try {
    return decodeProtobuf(body).object;
  } catch (e) {
    if (!(e instanceof ProtobufError)) throw e;
    // The real server reads every kind it serves from protobuf; this one only the tabled ones.
    if (e.message.startsWith('no protobuf decoding')) throw unsupportedMediaType(PROTOBUF, `application/json (${e.message})`);
    throw badRequest(`${what}: ${e.message}`);
  }
}

/** The object of a create (POST) or update (PUT). YAML and CBOR bodies are not read: 415. */
export function decodeObjectBody(def: KindDef, req: IncomingMessage, body: Buffer): unknown {
  const type = mediaType(req);
  if (isJson(type)) return parseJsonBody(body.toString('utf8'));
  if (type === PROTOBUF) return fromProtobuf(body, `${def.kind} in version "${def.version}" cannot be handled as a ${def.kind}`);
  throw unsupportedMediaType(type, OBJECT_MEDIA_TYPES);
}

/** The DeleteOptions body of a DELETE, or undefined when there is none. */
export function decodeOptionsBody(req: IncomingMessage, body: Buffer): unknown {
  if (body.length === 0 || body.toString('utf8').trim() === '') return undefined;
  const type = mediaType(req);
  if (type === PROTOBUF) return fromProtobuf(body, 'DeleteOptions cannot be decoded');
  return parseJsonBody(body.toString('utf8'));
}
