import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { BatonError } from '@baton/core';
import { isMap, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { CONFIG_FILE_ENV, CONFIG_OPTIONS, type OptionSpec } from './options.ts';
import { toProblems, type ConfigProblem, type ConfigSource } from './problems.ts';
import { BUILTIN_BACKENDS, BUILTIN_SECTION_OF, createConfigSchema, type BatonConfig, type BatonConfigInput } from './schema.ts';

export type { ConfigProblem, ConfigSource } from './problems.ts';

/** The configuration is invalid. `baton` prints the message and exits with code 2. */
export class ConfigValidationError extends BatonError {
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    const lines = problems.map((p) => `  ${formatProblem(p)}`);
    super('CONFIG_INVALID', `invalid configuration:\n${lines.join('\n')}`);
    this.problems = problems;
  }
}

export function describeSource(source: ConfigSource): string {
  switch (source.kind) {
    case 'file':
      return source.line === undefined ? source.path : `${source.path}:${source.line}:${source.col}`;
    case 'env':
      return `environment variable ${source.name}`;
    case 'flag':
      return `flag --${source.name}`;
    case 'code':
      return 'configuration passed in code';
  }
}

function formatProblem(problem: ConfigProblem): string {
  const where = problem.source ? `${describeSource(problem.source)}: ` : '';
  return `${where}${problem.field === '' ? '' : `${problem.field}: `}${problem.message}`;
}

export interface LoadConfigOptions {
  /** A YAML or JSON file. Default: `$BATON_CONFIG` when set. */
  file?: string;
  /** Values set in code, below the file in precedence. */
  values?: Partial<BatonConfigInput> & Record<string, unknown>;
  /** `BATON_*` variables. Default: `process.env`; pass `{}` to ignore the environment. */
  env?: Record<string, string | undefined>;
  /** Flag values by flag name (`lease-duration`), as `parseArgs` returns them. */
  flags?: Record<string, unknown>;
  /** Backend names that are valid. Default: the built-in ones. */
  backends?: readonly string[];
  /** Option sections of application backends (free-form). */
  sections?: readonly string[];
  /** Section of each backend that is not built in, for `--url`. */
  sectionOf?: Readonly<Record<string, string>>;
}

/** The result of {@link loadConfig}. */
export interface LoadedConfig {
  readonly config: BatonConfig;
  /** The file it was read from, if any. */
  readonly file: string | undefined;
  /** Directory relative paths in the configuration resolve from. */
  readonly baseDir: string;
  /** Where each field set explicitly came from. */
  sourceOf(field: string): ConfigSource | undefined;
}

interface Layer {
  values: Record<string, unknown>;
  sources: Map<string, ConfigSource>;
}

/**
 * Reads and validates the configuration: built-in defaults, then `values`, then the file,
 * then `BATON_*` environment variables, then flags — each overriding the one before.
 * @throws ConfigValidationError listing every problem with its field and where it came from.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const env = options.env ?? process.env;
  const file = options.file ?? (env[CONFIG_FILE_ENV] || undefined);
  const problems: ConfigProblem[] = [];
  const layers: Layer[] = [];

  if (options.values) layers.push(codeLayer(options.values));
  let fileLayer: FileLayer | undefined;
  if (file !== undefined) {
    fileLayer = await readFileLayer(resolve(file), problems);
    if (fileLayer) layers.push(fileLayer);
  }
  const specLayers = [envLayer(env, problems), flagLayer(options.flags ?? {}, problems)];
  if (problems.length > 0) throw new ConfigValidationError(problems);

  // `url` and `tls.*` land in the selected backend's section, known only once the rest is merged.
  const merged: Layer = { values: {}, sources: new Map() };
  for (const layer of layers) mergeLayer(merged, layer);
  for (const layer of specLayers) mergeLayer(merged, layer.layer);
  const backend = typeof merged.values.backend === 'string' ? merged.values.backend : 'lease';
  const sectionOf = { ...BUILTIN_SECTION_OF, ...options.sectionOf };
  const section = sectionOf[backend];
  for (const { path, value, source } of specLayers.flatMap((l) => l.selected)) {
    if (section === undefined || section === 'memory') {
      problems.push({ field: path.join('.'), message: `the ${backend} backend takes no ${path[0] === 'url' ? 'URL' : 'TLS settings'}`, source });
      continue;
    }
    if (path[0] === 'tls' && section === 'kubernetes') {
      problems.push({ field: path.join('.'), message: `the ${backend} backend takes its TLS settings from the kubeconfig, or --certificate-authority with --url`, source });
      continue;
    }
    const layer: Layer = { values: {}, sources: new Map() };
    setPath(layer, [section, ...path], value, source);
    mergeLayer(merged, layer);
  }
  if (problems.length > 0) throw new ConfigValidationError(problems);
  // The selected backend's section gets its defaults even when absent.
  if (section !== undefined && merged.values[section] === undefined) merged.values[section] = {};
  merged.values.backend ??= 'lease';

  const schema = createConfigSchema(options.backends ?? BUILTIN_BACKENDS, options.sections ?? []);
  const result = schema.safeParse(merged.values);
  const sourceOf = (field: string): ConfigSource | undefined => lookupSource(merged.sources, field, fileLayer);
  if (!result.success) {
    const keySource = (path: readonly string[], key: string, fallback: ConfigSource | undefined): ConfigSource | undefined =>
      fallback?.kind === 'file' && fileLayer ? fileSource(fileLayer, path, key) : fallback;
    throw new ConfigValidationError(result.error.issues.flatMap((issue) => toProblems(issue, merged.values, { sourceOf, keySource })));
  }
  return {
    config: result.data,
    file: fileLayer?.path,
    baseDir: fileLayer ? dirname(fileLayer.path) : process.cwd(),
    sourceOf,
  };
}

// ---- layers ------------------------------------------------------------------------------

interface FileLayer extends Layer {
  path: string;
  document: Document;
  lineCounter: LineCounter;
}

function codeLayer(values: Record<string, unknown>): Layer {
  const sources = new Map<string, ConfigSource>();
  for (const path of leafPaths(values)) sources.set(path, { kind: 'code' });
  return { values: structuredClone(values), sources };
}

async function readFileLayer(path: string, problems: ConfigProblem[]): Promise<FileLayer | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (error as Error).message;
    problems.push({ field: '', message: `cannot read the configuration file: ${message}`, source: { kind: 'file', path } });
    return undefined;
  }
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    for (const error of document.errors) {
      const pos = error.linePos?.[0];
      const message = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
      problems.push({ field: '', message: `not valid YAML or JSON: ${message}`, source: { kind: 'file', path, line: pos?.line, col: pos?.col } });
    }
    return undefined;
  }
  const values: unknown = document.toJS() ?? {};
  if (typeof values !== 'object' || values === null || Array.isArray(values)) {
    problems.push({ field: '', message: 'the configuration file must hold a mapping (key: value lines, or a JSON object)', source: { kind: 'file', path } });
    return undefined;
  }
  const layer: FileLayer = { values: values as Record<string, unknown>, sources: new Map(), path, document, lineCounter };
  for (const field of leafPaths(layer.values)) layer.sources.set(field, fileSource(layer, field.split('.')));
  return layer;
}

/** The position of a field (or, with `key`, of that key) in the file. */
function fileSource(layer: FileLayer, path: readonly string[], key?: string): ConfigSource {
  let node: unknown = layer.document.getIn(path, true);
  if (key !== undefined) {
    node = isMap(node) ? node.items.find((pair) => isScalar(pair.key) && pair.key.value === key)?.key : undefined;
  } else if (node === undefined && path.length > 0) {
    // A field the file does not set: point at its parent, or the file.
    return path.length > 1 ? fileSource(layer, path.slice(0, -1)) : { kind: 'file', path: layer.path };
  }
  const range = (node as { range?: [number, number, number] } | undefined)?.range;
  if (!range) return { kind: 'file', path: layer.path };
  const { line, col } = layer.lineCounter.linePos(range[0]);
  return { kind: 'file', path: layer.path, line, col };
}

/** Values of the environment or the flags: their layer, and those for the selected backend's section (placed once it is known). */
interface SpecLayer {
  layer: Layer;
  selected: Array<{ path: readonly string[]; value: unknown; source: ConfigSource }>;
}

function envLayer(env: Record<string, string | undefined>, problems: ConfigProblem[]): SpecLayer {
  return specLayer(problems, (spec) => {
    const raw = env[spec.env];
    return raw === undefined || raw === '' ? undefined : { raw, source: { kind: 'env', name: spec.env } };
  });
}

function flagLayer(flags: Record<string, unknown>, problems: ConfigProblem[]): SpecLayer {
  return specLayer(problems, (spec) => {
    const raw = flags[spec.flag];
    return raw === undefined ? undefined : { raw, source: { kind: 'flag', name: spec.flag } };
  });
}

function specLayer(problems: ConfigProblem[], read: (spec: OptionSpec) => { raw: unknown; source: ConfigSource } | undefined): SpecLayer {
  const result: SpecLayer = { layer: { values: {}, sources: new Map() }, selected: [] };
  for (const spec of CONFIG_OPTIONS) {
    const given = read(spec);
    if (given === undefined) continue;
    const { raw, source } = given;
    const value = typeof raw === 'string' ? convert(spec, raw, source, problems) : raw;
    if (value === undefined) continue;
    if ('selected' in spec.path) result.selected.push({ path: spec.path.selected, value, source });
    else setPath(result.layer, spec.path, value, source);
  }
  return result;
}

function convert(spec: OptionSpec, raw: string, source: ConfigSource, problems: ConfigProblem[]): unknown {
  const field = ('selected' in spec.path ? spec.path.selected : spec.path).join('.');
  switch (spec.type) {
    case 'boolean': {
      const value = raw.trim().toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(value)) return true;
      if (['false', '0', 'no', 'off'].includes(value)) return false;
      problems.push({ field, message: `expected true or false, got "${raw}"`, source });
      return undefined;
    }
    case 'integer':
      if (/^\s*\d+\s*$/.test(raw)) return Number(raw);
      problems.push({ field, message: `expected a whole number, got "${raw}"`, source });
      return undefined;
    case 'duration':
      return /^\s*\d+(\.\d+)?\s*$/.test(raw) ? Number(raw) : raw;
    case 'string':
      return raw;
    case 'file':
      return resolve(raw);
  }
}

function setPath(layer: Layer, path: readonly string[], value: unknown, source: ConfigSource): void {
  let target = layer.values;
  for (const key of path.slice(0, -1)) {
    const next = target[key];
    target = (typeof next === 'object' && next !== null ? next : (target[key] = {})) as Record<string, unknown>;
  }
  target[path[path.length - 1]!] = value;
  layer.sources.set(path.join('.'), source);
}

function mergeLayer(into: Layer, layer: Layer): void {
  into.values = deepMerge(into.values, layer.values);
  for (const [field, source] of layer.sources) {
    // A value replaces whatever was set below it, including nested fields.
    for (const existing of [...into.sources.keys()]) {
      if (existing.startsWith(`${field}.`)) into.sources.delete(existing);
    }
    into.sources.set(field, source);
  }
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const existing = out[key];
    out[key] = isPlainObject(existing) && isPlainObject(value) ? deepMerge(existing, value) : value;
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function leafPaths(value: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(value).flatMap(([key, child]) =>
    isPlainObject(child) && Object.keys(child).length > 0 ? leafPaths(child, `${prefix}${key}.`) : [`${prefix}${key}`],
  );
}

// ---- errors ------------------------------------------------------------------------------

function lookupSource(sources: Map<string, ConfigSource>, field: string, file: FileLayer | undefined): ConfigSource | undefined {
  for (let path = field; path !== ''; path = path.includes('.') ? path.slice(0, path.lastIndexOf('.')) : '') {
    const source = sources.get(path);
    if (source) return source;
  }
  // Not set anywhere (a required field): the file is where it belongs.
  return file && (field === '' ? { kind: 'file', path: file.path } : fileSource(file, field.split('.')));
}
