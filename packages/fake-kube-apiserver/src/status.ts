// metav1.Status objects and the errors that carry them, with the messages, reasons and codes
// the real kube-apiserver produces (k8s.io/apimachinery/pkg/api/errors).

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

/** A group and a plural resource, e.g. `leases.coordination.k8s.io` or `configmaps`. */
export interface GroupResource {
  group: string;
  resource: string;
}

/** A group and a kind, e.g. `Lease.coordination.k8s.io`. */
export interface GroupKind {
  group: string;
  kind: string;
}

/** `resource.group` (or `resource` for the core group), as error messages name it. */
export function groupResourceString(groupRes: GroupResource): string {
  return groupRes.group ? `${groupRes.resource}.${groupRes.group}` : groupRes.resource;
}

function groupKindString(gk: GroupKind): string {
  return gk.group ? `${gk.kind}.${gk.group}` : gk.kind;
}

function compactDetails(d: StatusDetails): StatusDetails {
  const out: StatusDetails = {};
  if (d.name) out.name = d.name;
  if (d.group) out.group = d.group;
  if (d.kind) out.kind = d.kind;
  if (d.uid) out.uid = d.uid;
  if (d.causes && d.causes.length > 0) out.causes = d.causes;
  if (d.retryAfterSeconds) out.retryAfterSeconds = d.retryAfterSeconds;
  return out;
}

/** A Failure Status, the body of every API error. */
export function failureStatus(code: number, reason: string, message: string, details?: StatusDetails): Status {
  // Field order of metav1.Status: kind, apiVersion, metadata, status, message, reason, details, code.
  const s = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason } as Status;
  if (details) s.details = compactDetails(details);
  s.code = code;
  return s;
}

/** The Success Status a DELETE answers for kinds that do not return the object. */
export function successStatus(details: StatusDetails): Omit<Status, 'code'> & { code?: number } {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: compactDetails(details) };
}

/** An error that is answered with a Status object. */
export class ApiError extends Error {
  readonly status: Status;
  readonly headers: Record<string, string>;
  constructor(status: Status, headers: Record<string, string> = {}) {
    super(status.message ?? status.reason ?? `HTTP ${status.code}`);
    this.name = 'ApiError';
    this.status = status;
    this.headers = headers;
  }
  get code(): number {
    return this.status.code;
  }
}

/** 404 `leases.coordination.k8s.io "x" not found`. */
export function notFound(groupRes: GroupResource, name: string): ApiError {
  return new ApiError(
    failureStatus(404, 'NotFound', `${groupResourceString(groupRes)} "${name}" not found`, { name, group: groupRes.group, kind: groupRes.resource }),
  );
}

/** 409 `... "x" already exists`. */
export function alreadyExists(groupRes: GroupResource, name: string): ApiError {
  return new ApiError(
    failureStatus(409, 'AlreadyExists', `${groupResourceString(groupRes)} "${name}" already exists`, {
      name,
      group: groupRes.group,
      kind: groupRes.resource,
    }),
  );
}

/** The text of every optimistic-concurrency 409, which clients match on to retry. */
export const OPTIMISTIC_LOCK_MESSAGE = 'the object has been modified; please apply your changes to the latest version and try again';

/** 409 Conflict: `Operation cannot be fulfilled on ...: <why>`. */
export function conflict(groupRes: GroupResource, name: string, why: string = OPTIMISTIC_LOCK_MESSAGE): ApiError {
  return new ApiError(
    failureStatus(409, 'Conflict', `Operation cannot be fulfilled on ${groupResourceString(groupRes)} "${name}": ${why}`, {
      name,
      group: groupRes.group,
      kind: groupRes.resource,
    }),
  );
}

export type FieldErrorType =
  | 'FieldValueInvalid'
  | 'FieldValueRequired'
  | 'FieldValueForbidden'
  | 'FieldValueNotSupported'
  | 'FieldValueTooLong'
  | 'FieldValueDuplicate';

/** A validation error on one field (k8s.io/apimachinery/pkg/util/validation/field.Error). */
export interface FieldError {
  type: FieldErrorType;
  field: string;
  /** Already rendered (`Invalid value: 0: must be greater than 0`). */
  body: string;
}

function renderValue(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

export const fieldErr = {
  invalid(field: string, value: unknown, detail: string): FieldError {
    return { type: 'FieldValueInvalid', field, body: `Invalid value: ${renderValue(value)}: ${detail}` };
  },
  required(field: string, detail = ''): FieldError {
    return { type: 'FieldValueRequired', field, body: detail ? `Required value: ${detail}` : 'Required value' };
  },
  forbidden(field: string, detail: string): FieldError {
    return { type: 'FieldValueForbidden', field, body: detail ? `Forbidden: ${detail}` : 'Forbidden' };
  },
  notSupported(field: string, value: unknown, supported: string[]): FieldError {
    const list = supported.map((s) => JSON.stringify(s)).join(', ');
    return {
      type: 'FieldValueNotSupported',
      field,
      body: `Unsupported value: ${renderValue(value)}: supported values: ${list}`,
    };
  },
  tooLong(field: string, max: number): FieldError {
    return { type: 'FieldValueTooLong', field, body: `Too long: may not be more than ${max} bytes` };
  },
  duplicate(field: string, value: unknown): FieldError {
    return { type: 'FieldValueDuplicate', field, body: `Duplicate value: ${renderValue(value)}` };
  },
};

export function invalid(gk: GroupKind, name: string, errs: FieldError[]): ApiError {
  const parts = errs.map((e) => `${e.field}: ${e.body}`);
  const agg = parts.length === 1 ? parts[0]! : `[${parts.join(', ')}]`;
  return new ApiError(
    failureStatus(422, 'Invalid', `${groupKindString(gk)} "${name}" is invalid: ${agg}`, {
      name,
      group: gk.group,
      kind: gk.kind,
      causes: errs.map((e) => ({ reason: e.type, message: e.body, field: e.field })),
    }),
  );
}

export function badRequest(message: string): ApiError {
  return new ApiError(failureStatus(400, 'BadRequest', message));
}

export function unauthorized(): ApiError {
  return new ApiError(failureStatus(401, 'Unauthorized', 'Unauthorized'));
}

export function forbidden(groupRes: GroupResource | null, name: string, why: string): ApiError {
  if (!groupRes) return new ApiError(failureStatus(403, 'Forbidden', `forbidden: ${why}`, {}));
  const subject = name ? `${groupResourceString(groupRes)} "${name}"` : groupResourceString(groupRes);
  return new ApiError(
    failureStatus(403, 'Forbidden', `${subject} is forbidden: ${why}`, { name, group: groupRes.group, kind: groupRes.resource }),
  );
}

export function methodNotSupported(groupRes: GroupResource, action: string): ApiError {
  return new ApiError(
    failureStatus(405, 'MethodNotAllowed', `${action} is not supported on resources of kind "${groupResourceString(groupRes)}"`, {
      group: groupRes.group,
      kind: groupRes.resource,
    }),
  );
}

export function pathNotFound(): ApiError {
  return new ApiError(failureStatus(404, 'NotFound', 'the server could not find the requested resource', {}));
}

export function notAcceptable(): ApiError {
  return new ApiError(
    failureStatus(
      406,
      'NotAcceptable',
      'only the following media types are accepted: application/json, application/json;stream=watch',
    ),
  );
}

/** The media types a PATCH accepts (the default) or a create/update body does. */
export const PATCH_MEDIA_TYPES = 'application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml';
export const OBJECT_MEDIA_TYPES = 'application/json, application/yaml, application/vnd.kubernetes.protobuf';

export function unsupportedMediaType(contentType: string, accepted = PATCH_MEDIA_TYPES): ApiError {
  const detail = accepted === PATCH_MEDIA_TYPES ? ` (${contentType})` : '';
  return new ApiError(failureStatus(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${accepted}${detail}`));
}

export function unprocessable(message: string): ApiError {
  return new ApiError(failureStatus(422, 'Invalid', message));
}

export function internalError(message: string): ApiError {
  return new ApiError(
    failureStatus(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] }),
  );
}

export function serviceUnavailable(message = 'the server is currently unable to handle the request'): ApiError {
  return new ApiError(failureStatus(503, 'ServiceUnavailable', message));
}

export function tooManyRequests(retryAfterSeconds: number): ApiError {
  return new ApiError(
    failureStatus(429, 'TooManyRequests', 'Too many requests, please try again later.', { retryAfterSeconds }),
    { 'Retry-After': String(retryAfterSeconds) },
  );
}

export function expired(message: string): ApiError {
  return new ApiError(failureStatus(410, 'Expired', message));
}

export function tooLargeResourceVersion(requested: number, current: number): ApiError {
  return new ApiError(
    failureStatus(504, 'Timeout', `Timeout: Too large resource version: ${requested}, current: ${current}`, {
      causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
      retryAfterSeconds: 1,
    }),
    { 'Retry-After': '1' },
  );
}

export function requestEntityTooLarge(limit: number): ApiError {
  return new ApiError(
    failureStatus(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${limit}`),
  );
}
