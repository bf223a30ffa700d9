// ObjectMeta and name validation with apimachinery's messages (ValidateObjectMeta & friends).

import { fieldErr, type FieldError } from './status.ts';

const DNS1123_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN = `${DNS1123_LABEL}(\\.${DNS1123_LABEL})*`;
const DNS1035_LABEL = '[a-z]([-a-z0-9]*[a-z0-9])?';
const QUALIFIED_NAME_PART = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const LABEL_VALUE = `(${QUALIFIED_NAME_PART})?`;

const full = (re: string): RegExp => new RegExp(`^${re}$`);

export type NameValidator = (name: string) => string[];

export const dns1123Subdomain: NameValidator = (name) => {
  const errs: string[] = [];
  if (name.length > 253) errs.push('must be no more than 253 characters');
  if (!full(DNS1123_SUBDOMAIN).test(name)) {
    errs.push(
      "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '" +
        DNS1123_SUBDOMAIN +
        "')",
    );
  }
  return errs;
};

export const dns1123Label: NameValidator = (name) => {
  const errs: string[] = [];
  if (name.length > 63) errs.push('must be no more than 63 characters');
  if (!full(DNS1123_LABEL).test(name)) {
    errs.push(
      "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '" +
        DNS1123_LABEL +
        "')",
    );
  }
  return errs;
};

export const dns1035Label: NameValidator = (name) => {
  const errs: string[] = [];
  if (name.length > 63) errs.push('must be no more than 63 characters');
  if (!full(DNS1035_LABEL).test(name)) {
    errs.push(
      "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '" +
        DNS1035_LABEL +
        "')",
    );
  }
  return errs;
};

/** Path-segment rules every name obeys (it must be usable in a URL). */
export function pathSegmentErrors(name: string): string[] {
  if (name === '.' || name === '..') return [`may not be '${name}'`];
  for (const bad of ['/', '%']) if (name.includes(bad)) return [`may not contain '${bad}'`];
  return [];
}

export function qualifiedNameErrors(value: string): string[] {
  const errs: string[] = [];
  const parts = value.split('/');
  let name = value;
  if (parts.length === 2) {
    const [prefix, n] = parts as [string, string];
    name = n;
    if (prefix.length === 0) errs.push('prefix part must be non-empty');
    else errs.push(...dns1123Subdomain(prefix).map((m) => `prefix part ${m}`));
  } else if (parts.length > 2) {
    return [
      "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '" +
        QUALIFIED_NAME_PART +
        "') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    ];
  }
  if (name.length === 0) errs.push('name part must be non-empty');
  else if (name.length > 63) errs.push('name part must be no more than 63 characters');
  if (name.length > 0 && !full(QUALIFIED_NAME_PART).test(name)) {
    errs.push(
      "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '" +
        QUALIFIED_NAME_PART +
        "')",
    );
  }
  return errs;
}

export function labelValueErrors(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push('must be no more than 63 characters');
  if (!full(LABEL_VALUE).test(value)) {
    errs.push(
      "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '" +
        LABEL_VALUE +
        "')",
    );
  }
  return errs;
}

const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

export interface MetaValidationOptions {
  namespaced: boolean;
  nameValidator: NameValidator;
}

type Meta = Record<string, unknown>;

/** ValidateObjectMeta: name, namespace, labels, annotations, finalizers, ownerReferences. */
export function validateObjectMeta(meta: Meta, opts: MetaValidationOptions): FieldError[] {
  const errs: FieldError[] = [];
  const name = typeof meta.name === 'string' ? meta.name : '';
  const generateName = typeof meta.generateName === 'string' ? meta.generateName : '';
  if (!name) {
    errs.push(fieldErr.required('metadata.name', 'name or generateName is required'));
  } else {
    for (const m of [...pathSegmentErrors(name), ...opts.nameValidator(name)]) {
      errs.push(fieldErr.invalid('metadata.name', name, m));
    }
  }
  if (generateName) {
    const trimmed = generateName.replace(/-$/, '') || 'a';
    for (const m of opts.nameValidator(trimmed)) errs.push(fieldErr.invalid('metadata.generateName', generateName, m));
  }
  const ns = typeof meta.namespace === 'string' ? meta.namespace : '';
  if (opts.namespaced) {
    if (!ns) errs.push(fieldErr.required('metadata.namespace'));
    else for (const m of dns1123Label(ns)) errs.push(fieldErr.invalid('metadata.namespace', ns, m));
  } else if (ns) {
    errs.push(fieldErr.forbidden('metadata.namespace', 'not allowed on this type'));
  }
  const labels = (meta.labels ?? {}) as Record<string, string>;
  for (const [k, v] of Object.entries(labels)) {
    for (const m of qualifiedNameErrors(k)) errs.push(fieldErr.invalid('metadata.labels', k, m));
    for (const m of labelValueErrors(v)) errs.push(fieldErr.invalid('metadata.labels', v, m));
  }
  const annotations = (meta.annotations ?? {}) as Record<string, string>;
  let size = 0;
  for (const [k, v] of Object.entries(annotations)) {
    for (const m of qualifiedNameErrors(k.toLowerCase())) errs.push(fieldErr.invalid('metadata.annotations', k, m));
    size += Buffer.byteLength(k) + Buffer.byteLength(v);
  }
  if (size > TOTAL_ANNOTATION_SIZE_LIMIT) {
    errs.push({
      type: 'FieldValueTooLong',
      field: 'metadata.annotations',
      body: `Too long: may not be more than ${TOTAL_ANNOTATION_SIZE_LIMIT} bytes`,
    });
  }
  const finalizers = (meta.finalizers ?? []) as string[];
  const seen = new Set<string>();
  finalizers.forEach((fin, i) => {
    for (const m of qualifiedNameErrors(fin)) errs.push(fieldErr.invalid(`metadata.finalizers[${i}]`, fin, m));
    if (seen.has(fin)) errs.push(fieldErr.duplicate(`metadata.finalizers[${i}]`, fin));
    seen.add(fin);
  });
  const owners = (meta.ownerReferences ?? []) as Record<string, unknown>[];
  owners.forEach((o, i) => {
    const p = `metadata.ownerReferences[${i}]`;
    if (!o.apiVersion) errs.push(fieldErr.invalid(`${p}.apiVersion`, o.apiVersion ?? '', 'version must not be empty'));
    if (!o.kind) errs.push(fieldErr.invalid(`${p}.kind`, o.kind ?? '', 'kind must not be empty'));
    if (!o.name) errs.push(fieldErr.invalid(`${p}.name`, o.name ?? '', 'name must not be empty'));
    if (!o.uid) errs.push(fieldErr.invalid(`${p}.uid`, o.uid ?? '', 'uid must not be empty'));
  });
  return errs;
}

/** ValidateObjectMetaUpdate: the immutable parts of metadata. */
export function validateObjectMetaUpdate(meta: Meta, old: Meta): FieldError[] {
  const errs: FieldError[] = [];
  for (const key of ['name', 'namespace', 'uid', 'creationTimestamp'] as const) {
    if ((meta[key] ?? '') !== (old[key] ?? '')) {
      errs.push(fieldErr.invalid(`metadata.${key}`, meta[key] ?? '', 'field is immutable'));
    }
  }
  return errs;
}

export function validateQualifiedName(field: string, value: string): FieldError[] {
  return qualifiedNameErrors(value).map((m) => fieldErr.invalid(field, value, m));
}
