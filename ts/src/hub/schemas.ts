/**
 * TypeBox schemas of every hub route: request bodies, params and responses. Validation is
 * strict: no unknown fields, no type coercion, ranges checked (JSON has no NaN or Infinity,
 * so a finite-number check is the type check).
 */
import { Type, type Static } from 'typebox';

/** Most observations one batch may carry. */
export const MAX_BATCH_RECORDS = 1000;
/** Most records one stateless `/v1/fuse` call may carry. */
export const MAX_FUSE_RECORDS = 100_000;

/** Round ids are also file names in the embedded store: letters, digits, `_` and `-`. */
export const RoundId = Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' });
export const NodeId = Type.String({ pattern: '^[A-Za-z0-9._:-]{1,128}$' });

export const RoundParams = Type.Object({ round: RoundId }, { additionalProperties: false });

/**
 * A record id: 1 to 128 characters, none a control character (U+0000 to U+001F) or half of a
 * surrogate pair. Ids are keys a store keeps apart from the batch's text (PostgreSQL's text
 * holds no NUL, and a lone surrogate would be stored as U+FFFD, one id for many).
 */
export const RecordId = Type.String({
  minLength: 1,
  maxLength: 128,
  pattern: '^(?:[^\\u0000-\\u001f\\ud800-\\udfff]|[\\ud800-\\udbff][\\udc00-\\udfff])+$',
});

export const SensorRecordSchema = Type.Object(
  {
    id: RecordId,
    node: NodeId,
    cls: Type.String({ minLength: 1, maxLength: 64 }),
    t: Type.Number({ minimum: 0, maximum: 8.64e15 }),
    lat: Type.Number({ minimum: -90, maximum: 90 }),
    lon: Type.Number({ minimum: -180, maximum: 180 }),
    values: Type.Optional(Type.Record(Type.String({ maxLength: 64 }), Type.Number(), { maxProperties: 32 })),
    label: Type.Optional(Type.String({ maxLength: 256 })),
  },
  { additionalProperties: false },
);

export const AnnounceBody = Type.Object({ node: NodeId }, { additionalProperties: false });
export type AnnounceBody = Static<typeof AnnounceBody>;

export const AnnounceReply = Type.Object({
  round: Type.String(),
  node: Type.String(),
  /** Epoch ms at which the round closes whatever has arrived. */
  deadline: Type.Number(),
  state: Type.String(),
});

export const ObservationsBody = Type.Object(
  {
    node: NodeId,
    /** The node's batch number in this round, from 1; a retry repeats it. */
    seq: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
    /** Marks the node's last batch of the round. */
    final: Type.Optional(Type.Boolean()),
    records: Type.Array(SensorRecordSchema, { maxItems: MAX_BATCH_RECORDS }),
  },
  { additionalProperties: false },
);
export type ObservationsBody = Static<typeof ObservationsBody>;

export const ObservationsReply = Type.Object({
  round: Type.String(),
  node: Type.String(),
  seq: Type.Integer(),
  accepted: Type.Integer(),
  /** True when this batch had been accepted before (a retry); nothing was added. */
  duplicate: Type.Boolean(),
  /** The round's state after this batch: it closes when every announced node is final. */
  state: Type.String(),
});

export const CloseReply = Type.Object({
  round: Type.String(),
  state: Type.String(),
  /** False when the round was already closed. */
  closedNow: Type.Boolean(),
});

const RoundSummary = Type.Object({
  round: Type.String(),
  state: Type.String(),
  openedAt: Type.Number(),
  deadline: Type.Number(),
  closedAt: Type.Union([Type.Number(), Type.Null()]),
  closeReason: Type.Union([Type.String(), Type.Null()]),
  nodes: Type.Integer(),
  finalNodes: Type.Integer(),
  batches: Type.Integer(),
  observations: Type.Integer(),
  events: Type.Union([Type.Integer(), Type.Null()]),
  fusionMs: Type.Union([Type.Number(), Type.Null()]),
});
export const RoundSummarySchema = RoundSummary;

export const RoundList = Type.Object({ rounds: Type.Array(RoundSummary) });

const FusedEventSchema = Type.Object({
  id: Type.Integer(),
  members: Type.Array(Type.String()),
  nodes: Type.Array(Type.String()),
  cls: Type.String(),
  t: Type.Number(),
  lat: Type.Number(),
  lon: Type.Number(),
  score: Type.Number(),
});

export const FusionResultSchema = Type.Object({
  events: Type.Array(FusedEventSchema),
  stats: Type.Object({
    records: Type.Integer(),
    blocks: Type.Integer(),
    largestBlock: Type.Integer(),
    candidates: Type.Integer(),
    scored: Type.Integer(),
    matched: Type.Integer(),
    timingsMs: Type.Record(Type.String(), Type.Number()),
  }),
});

export const ResultQuery = Type.Object(
  {
    /** Waits up to this long for an open or fusing round's result before answering 409. */
    waitMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 60_000 })),
  },
  { additionalProperties: false },
);

export const ListQuery = Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })) }, { additionalProperties: false });

export const FuseBody = Type.Object({ records: Type.Array(SensorRecordSchema, { maxItems: MAX_FUSE_RECORDS }) }, { additionalProperties: false });
export type FuseBody = Static<typeof FuseBody>;

export const ErrorReply = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String() }),
});

export const HealthReply = Type.Object({
  status: Type.String(),
  store: Type.String(),
  openRounds: Type.Integer(),
  uptimeS: Type.Number(),
});

/** The error replies every route may give, for its response schema. */
export const errorReplies = {
  400: ErrorReply,
  401: ErrorReply,
  403: ErrorReply,
  404: ErrorReply,
  409: ErrorReply,
  413: ErrorReply,
  415: ErrorReply,
  500: ErrorReply,
  503: ErrorReply,
} as const;
