// What the server needs to know about one served resource: its discovery entry, the Go struct it
// decodes into, the strategy flags of its registry (create-on-update, unconditional update, ...),
// defaulting, validation, field selectors and the server-side table columns.

import type { Schema } from '../schema.ts';
import type { FieldError } from '../status.ts';
import type { NameValidator } from '../validation.ts';

export type Obj = Record<string, unknown>;

export interface Column {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format: string;
  description: string;
  priority: number;
  cell(obj: Obj, now: number): unknown;
}

export interface CreateContext {
  /** Allocates a ClusterIP for a Service. */
  allocateClusterIP(): string;
}

export interface KindDef {
  group: string;
  version: string;
  /** Plural resource name, as in URLs and RBAC rules. */
  resource: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  verbs: string[];
  /** Objects of defs with the same storage key are one set of objects (core and events.k8s.io Events). */
  storageKey: string;
  schema: Schema;
  nameValidator: NameValidator;
  /** PUT to a missing object creates it (the registry strategy's AllowCreateOnUpdate). */
  allowCreateOnUpdate: boolean;
  /** PUT without metadata.resourceVersion overwrites (AllowUnconditionalUpdate); else 422. */
  allowUnconditionalUpdate: boolean;
  /** DELETE answers with the deleted object instead of a Success Status. */
  returnDeletedObject: boolean;
  /** metadata.generation is set to 1 on create and bumped when the spec changes. */
  tracksGeneration: boolean;
  /** `status` belongs to a subresource: writes to the main resource keep the stored status. */
  preservesStatus: boolean;
  /** Defaults and server-set fields for a new object (after decoding, before validation). */
  prepareForCreate?(obj: Obj, ctx: CreateContext): void;
  /** Defaults and carried-over fields for an update (after decoding, before validation). */
  prepareForUpdate?(obj: Obj, old: Obj): void;
  validate?(obj: Obj): FieldError[];
  validateUpdate?(obj: Obj, old: Obj): FieldError[];
  /** This API's form to the stored form (identity unless two APIs share storage). */
  toStorage?(obj: Obj): Obj;
  fromStorage?(stored: Obj): Obj;
  /** Field selector labels beyond metadata.name and metadata.namespace. */
  fieldLabels: Record<string, (obj: Obj) => string>;
  columns: Column[];
  /** A deprecation warning sent with every response (the `Warning: 299 - "..."` header). */
  warning?: string;
}

export const meta = (o: Obj): Obj => (o.metadata ?? {}) as Obj;
export const str = (v: unknown): string => (typeof v === 'string' ? v : '');
