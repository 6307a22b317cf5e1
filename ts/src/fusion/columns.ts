/**
 * Records (objects or columns) → the native columnar form, with the checks that need the
 * record objects: ids, nodes, types and ranges, each error naming the field and row.
 */
import type { NativeColumns, NativeField } from '../native.js';
import { Dictionary } from './dictionary.js';
import { fusionError } from './errors.js';
import { StringIndex } from './string-index.js';
import type { FieldSpec, FusionColumns, FusionConfig, GenericColumns, SensorColumns } from './types.js';

/** Longest id, node name or category value accepted. */
const MAX_NAME_LENGTH = 1024;
/** Largest |epoch ms| a JS Date can hold. */
const MAX_TIME_MS = 8.64e15;
const MISSING_CODE = 0xffffffff;

/** Native columns plus what is needed to turn native output back into records' terms. */
export type PreparedInput = {
  columns: NativeColumns;
  length: number;
  /** Record ids by row; absent for columns without ids (the row number is the id). */
  ids: readonly string[] | undefined;
  nodeNames: string[];
  /** Dictionary of the field that gives an event its class, if any. */
  classNames: string[] | undefined;
  /** Throws `ERR_FUSION_INPUT` on a repeated id; must run before the result is used. */
  checkUniqueIds: () => void;
};

function inputError(message: string): never {
  throw fusionError('ERR_FUSION_INPUT', message);
}

function describe(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}

type Reader = (record: Record<string, unknown>) => unknown;

function pathReader(path: string): Reader {
  const parts = path.split('.');
  if (parts.length === 1) return (r) => r[path];
  return (r) => {
    let v: unknown = r;
    for (const p of parts) {
      if (v === null || typeof v !== 'object') return undefined;
      v = (v as Record<string, unknown>)[p];
    }
    return v;
  };
}

/**
 * Throws on the first repeated id, naming both rows. Callers run it through
 * `PreparedInput.checkUniqueIds`, so the async path can overlap it with native work.
 */
function checkUnique(ids: readonly string[]): void {
  const seen = new StringIndex(ids.length);
  for (let row = 0; row < ids.length; row++) {
    const first = seen.intern(ids[row]);
    if (first !== row) inputError(`row ${row}: duplicate id ${JSON.stringify(ids[row])} (first at row ${first})`);
  }
}

function classFieldName(config: FusionConfig): string | undefined {
  return config.output?.class ?? config.fields.find((f) => f.kind === 'category')?.name;
}

function checkName(value: unknown, what: string, row: number): string {
  if (typeof value !== 'string' || value.length === 0) {
    inputError(`row ${row}: ${what} must be a non-empty string, got ${describe(value)}`);
  }
  if (value.length > MAX_NAME_LENGTH) {
    inputError(`row ${row}: ${what} is longer than ${MAX_NAME_LENGTH} characters`);
  }
  return value;
}

/**
 * Reads a string field of every record: `take(row, value)` gets the string, or `null` for a
 * missing value (after `missing(row)` accepted it); anything else is an input error.
 */
function readStrings(spec: FieldSpec, records: ArrayLike<Record<string, unknown>>, missing: (row: number) => void, take: (row: number, value: string | null) => void): void {
  const read = pathReader(typeof spec.from === 'string' ? spec.from : spec.name);
  for (let row = 0; row < records.length; row++) {
    const v = read(records[row]);
    if (v === undefined || v === null) {
      missing(row);
      take(row, null);
    } else if (typeof v !== 'string') {
      inputError(`row ${row}: field "${spec.name}" must be a string, got ${describe(v)}`);
    } else {
      take(row, v);
    }
  }
}

/** Builds one field's column from record objects. */
function fieldColumn(spec: FieldSpec, records: ArrayLike<Record<string, unknown>>): { field: NativeField; dictionary?: string[] } {
  const n = records.length;
  const name = spec.name;
  const missing = (row: number): void => {
    if (!spec.optional) inputError(`row ${row}: field "${name}" is missing`);
  };
  switch (spec.kind) {
    case 'category': {
      const dict = new Dictionary();
      const codes = new Uint32Array(n);
      readStrings(spec, records, missing, (row, v) => {
        if (v === null) codes[row] = MISSING_CODE;
        else if (v.length > MAX_NAME_LENGTH) inputError(`row ${row}: field "${name}" is longer than ${MAX_NAME_LENGTH} characters`);
        else codes[row] = dict.code(v);
      });
      return { field: { codes, dictionary: dict.names }, dictionary: dict.names };
    }
    case 'text': {
      const text = new Array<string | null>(n);
      let present = 0;
      readStrings(spec, records, missing, (row, v) => {
        text[row] = v;
        if (v !== null) present++;
      });
      // An optional text field nobody filled in need not cross the boundary row by row.
      return { field: present === 0 && n > 0 ? {} : { text } };
    }
    case 'number':
    case 'time': {
      const read = pathReader(typeof spec.from === 'string' ? spec.from : name);
      const values = new Float64Array(n);
      for (let row = 0; row < n; row++) {
        const v = read(records[row]);
        if (v === undefined || v === null) {
          missing(row);
          values[row] = NaN;
        } else if (typeof v !== 'number' || !Number.isFinite(v)) {
          inputError(`row ${row}: field "${name}" must be a finite number, got ${describe(v)}`);
        } else if (spec.kind === 'time' && Math.abs(v) > MAX_TIME_MS) {
          inputError(`row ${row}: field "${name}" time ${v} is outside the epoch-ms range of a Date`);
        } else {
          values[row] = v;
        }
      }
      return { field: { values } };
    }
    case 'geo': {
      const from = spec.from;
      const pair: (r: Record<string, unknown>) => [unknown, unknown] | undefined =
        typeof from === 'object' && from !== null
          ? (() => {
              const la = pathReader(from.lat);
              const lo = pathReader(from.lon);
              return (r) => {
                const a = la(r);
                const o = lo(r);
                return a === undefined && o === undefined ? undefined : [a, o];
              };
            })()
          : (() => {
              const read = pathReader(typeof from === 'string' ? from : name);
              return (r) => {
                const v = read(r);
                if (v === undefined || v === null) return undefined;
                if (Array.isArray(v)) return [v[0], v[1]];
                if (typeof v === 'object') {
                  const o = v as { lat?: unknown; lon?: unknown };
                  return [o.lat, o.lon];
                }
                return [v, undefined];
              };
            })();
      const lat = new Float64Array(n);
      const lon = new Float64Array(n);
      for (let row = 0; row < n; row++) {
        const p = pair(records[row]);
        if (p === undefined) {
          missing(row);
          lat[row] = NaN;
          lon[row] = NaN;
          continue;
        }
        const [a, o] = p;
        if (typeof a !== 'number' || Number.isNaN(a) || a < -90 || a > 90) {
          inputError(`row ${row}: field "${name}" latitude must be a number in [-90, 90], got ${describe(a)}`);
        }
        if (typeof o !== 'number' || Number.isNaN(o) || o < -180 || o > 180) {
          inputError(`row ${row}: field "${name}" longitude must be a number in [-180, 180], got ${describe(o)}`);
        }
        lat[row] = a;
        lon[row] = o;
      }
      return { field: { lat, lon } };
    }
    default:
      throw fusionError('ERR_FUSION_CONFIG', `field "${name}" has unknown kind ${describe((spec as FieldSpec).kind)}`);
  }
}

/** Record objects → native columns, checking ids (unique), nodes and every field. */
export function prepareRecords(records: readonly unknown[], config: FusionConfig): PreparedInput {
  if (!Array.isArray(records)) inputError(`records must be an array, got ${describe(records)}`);
  const n = records.length;
  const ids = new Array<string>(n);
  const nodes = new Dictionary();
  const node = new Uint32Array(n);
  for (let row = 0; row < n; row++) {
    const r = records[row];
    if (r === null || typeof r !== 'object' || Array.isArray(r)) {
      inputError(`row ${row}: a record must be an object, got ${describe(r)}`);
    }
    const rec = r as Record<string, unknown>;
    ids[row] = checkName(rec.id, 'id', row);
    node[row] = nodes.code(checkName(rec.node, 'node', row));
  }
  const objects = records as ArrayLike<Record<string, unknown>>;
  const classField = classFieldName(config);
  let classNames: string[] | undefined;
  const fields = config.fields.map((spec) => {
    const { field, dictionary } = fieldColumn(spec, objects);
    if (spec.name === classField) classNames = dictionary;
    return field;
  });
  return { columns: { node, fields }, length: n, ids, nodeNames: nodes.names, classNames, checkUniqueIds: () => checkUnique(ids) };
}

function isSensorColumns(c: FusionColumns): c is SensorColumns {
  return !('fields' in c);
}

function checkLength(what: string, got: number, want: number): void {
  if (got !== want) inputError(`columns: ${what} has ${got} rows, node has ${want}`);
}

function checkCodes(codes: Uint32Array, names: string[], what: string): void {
  if (!Array.isArray(names) || !names.every((x) => typeof x === 'string')) {
    inputError(`columns: ${what} names must be an array of strings`);
  }
  // One name per code: a name under two codes would be two nodes (or classes) at once.
  const distinct = new StringIndex(names.length);
  for (let k = 0; k < names.length; k++) {
    const first = distinct.intern(names[k]);
    if (first !== k) inputError(`columns: ${what} names repeat ${JSON.stringify(names[k])} (codes ${first} and ${k})`);
  }
  for (let row = 0; row < codes.length; row++) {
    if (codes[row] >= names.length) {
      inputError(`row ${row}: ${what} code ${codes[row]} is outside its ${names.length} names`);
    }
  }
}

/** Columnar input → native columns; values are range-checked by the native layer. */
export function prepareColumns(input: FusionColumns, config: FusionConfig, checkIds = true): PreparedInput {
  if (input === null || typeof input !== 'object') inputError('columns must be an object');
  if (!(input.node instanceof Uint32Array)) inputError('columns.node must be a Uint32Array');
  const n = input.node.length;
  checkCodes(input.node, input.nodeNames, 'node');
  const ids = checkIds ? input.ids : undefined;
  if (ids !== undefined) {
    if (!Array.isArray(ids)) inputError('columns.ids must be an array of strings');
    checkLength('ids', ids.length, n);
    for (let row = 0; row < n; row++) checkName(ids[row], 'id', row);
  }
  const classField = classFieldName(config);
  let classNames: string[] | undefined;
  let fields: NativeField[];
  if (isSensorColumns(input)) {
    for (const k of ['cls', 't', 'lat', 'lon'] as const) {
      const col = input[k];
      const want = k === 'cls' ? Uint32Array : Float64Array;
      if (!(col instanceof want)) inputError(`columns.${k} must be a ${want.name}`);
      checkLength(k, col.length, n);
    }
    checkCodes(input.cls, input.classNames, 'cls');
    const byName: Record<string, NativeField> = {
      cls: { codes: input.cls, dictionary: input.classNames },
      t: { values: input.t },
      pos: { lat: input.lat, lon: input.lon },
      // No labels in sensor columns: an empty column is missing in every row.
      label: {},
    };
    fields = config.fields.map((f) => {
      const field = byName[f.name];
      if (!field) inputError(`columns: sensor columns have no field "${f.name}"; use the generic { fields } form`);
      return field;
    });
    classNames = classField === 'cls' ? input.classNames : undefined;
  } else {
    const g = input as GenericColumns;
    fields = config.fields.map((spec) => {
      const col = g.fields?.[spec.name];
      if (col === undefined) inputError(`columns.fields has no column "${spec.name}"`);
      let field: NativeField;
      if (col instanceof Float64Array) field = { values: col };
      else if (Array.isArray(col)) field = { text: col };
      else if ('codes' in col) {
        checkCodes(col.codes, col.dictionary, `field "${spec.name}"`);
        field = { codes: col.codes, dictionary: col.dictionary };
        if (spec.name === classField) classNames = col.dictionary;
      } else if ('lat' in col) field = { lat: col.lat, lon: col.lon };
      else inputError(`columns.fields.${spec.name} is not a column`);
      const len = field.values?.length ?? field.text?.length ?? field.codes?.length ?? field.lat?.length ?? 0;
      checkLength(`fields.${spec.name}`, len, n);
      return field;
    });
  }
  return {
    columns: { node: input.node, fields },
    length: n,
    ids,
    nodeNames: input.nodeNames,
    classNames,
    checkUniqueIds: () => {
      if (ids) checkUnique(ids);
    },
  };
}
