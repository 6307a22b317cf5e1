/** One observation an edge node reports. */
export type SensorRecord = {
  /** Unique across the input. */
  id: string;
  /** The reporting node. */
  node: string;
  /** Object class, e.g. `vehicle`. */
  cls: string;
  /** Epoch milliseconds. */
  t: number;
  lat: number;
  lon: number;
  values?: Record<string, number>;
  label?: string;
};

/** A record of any schema: an id, a node, and the fields the config names. */
export type GenericRecord = { id: string; node: string; [field: string]: unknown };

/** Field kinds of a schema. */
export type FieldKind = 'category' | 'text' | 'number' | 'time' | 'geo';

/** Where a field's value is read from a record: a dotted path, or for geo two paths. */
export type FieldSource = string | { lat: string; lon: string };

/** One field of the schema. */
export type FieldSpec = {
  name: string;
  kind: FieldKind;
  /** Records may omit it; a missing value never blocks and scores neutral. */
  optional?: boolean;
  /**
   * Where to read it; defaults to the field name (for geo: an object `{ lat, lon }` or a
   * `[lat, lon]` pair under that name).
   */
  from?: FieldSource;
};

/** One conjunct of a blocking pass: `exact`/`prefix` (category, text) or `within` (number: units, time: ms, geo: metres). */
export type BlockingPart = {
  field: string;
  exact?: true;
  prefix?: number;
  within?: number;
};

/** A pair is a candidate when it satisfies every part of at least one pass. */
export type BlockingPass = { name?: string; parts: BlockingPart[] };

/** A comparison level; the first whose test holds is taken. */
export type ComparisonLevel = {
  label?: string;
  exact?: true;
  within?: number;
  jaroWinkler?: number;
  /** P(level | match). */
  m: number;
  /** P(level | non-match). */
  u: number;
};

/** A Fellegi–Sunter comparator on one field. */
export type Comparator = {
  field: string;
  levels: ComparisonLevel[];
  /** The level taken when no other matches. */
  otherwise: { m: number; u: number };
};

/** A schema-driven fusion configuration. */
export type FusionConfig = {
  fields: FieldSpec[];
  blocking: BlockingPass[];
  comparators: Comparator[];
  /** Prior probability that a candidate pair is a match, in (0, 1). */
  prior: number;
  /** Match probability at which a pair is accepted, in (0, 1). */
  threshold: number;
  /** At most one record of each node per event. */
  onePerNode?: boolean;
  /** Fields that describe a fused event; default: the first category, time and geo fields. */
  output?: { class?: string; time?: string; position?: string };
};

/** One fused event. */
export type FusedEvent = {
  /** Position in `events`. */
  id: number;
  /** Record ids, sorted. */
  members: string[];
  /** Nodes that saw it, sorted. */
  nodes: string[];
  /** Majority class ('' when the schema has no category field). */
  cls: string;
  /** Mean time (NaN without a time field). */
  t: number;
  /** Centroid (NaN without a geo field). */
  lat: number;
  lon: number;
  /** Mean match probability of the matched pairs inside the event; 0 for a single record. */
  score: number;
};

/** What a fusion run found. */
export type FusionResult = {
  /** Sorted by `t`, then `id`; every input record is in exactly one event. */
  events: FusedEvent[];
  stats: {
    records: number;
    blocks: number;
    largestBlock: number;
    candidates: number;
    scored: number;
    matched: number;
    timingsMs: Record<string, number>;
  };
};

/** Sensor records in columns, for bulk input. */
export type SensorColumns = {
  /** Record ids; default: the row number as a string. */
  ids?: string[];
  /** Node code per record, into `nodeNames`. */
  node: Uint32Array;
  nodeNames: string[];
  /** Class code per record, into `classNames`. */
  cls: Uint32Array;
  classNames: string[];
  t: Float64Array;
  lat: Float64Array;
  lon: Float64Array;
};

/** A column of any field kind. */
export type GenericColumn = { codes: Uint32Array; dictionary: string[] } | Array<string | null> | Float64Array | { lat: Float64Array; lon: Float64Array };

/** Records of any schema in columns: one column per field name. */
export type GenericColumns = {
  ids?: string[];
  node: Uint32Array;
  nodeNames: string[];
  fields: Record<string, GenericColumn>;
};

/** Columnar input to `fuse`. */
export type FusionColumns = SensorColumns | GenericColumns;

/**
 * A fusion result in columns, for bulk input: no per-event objects or id strings. Event `e`
 * has the input rows `eventMembers[eventOffsets[e] .. eventOffsets[e + 1]]` (ascending).
 */
export type FusedColumns = {
  eventOffsets: Uint32Array;
  eventMembers: Uint32Array;
  /** Class per event as an index into `classNames`, -1 when none. */
  eventClass: Int32Array;
  classNames: string[];
  eventT: Float64Array;
  eventLat: Float64Array;
  eventLon: Float64Array;
  eventScore: Float64Array;
  stats: FusionResult['stats'];
};
