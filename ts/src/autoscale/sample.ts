/** Checks shared by every preset: a `decide()` sample, targets, and how reasons print numbers. */
import { type Static, type TSchema, Type } from 'typebox';

import { schemaCheck } from '../schema-check.js';
import { configError, inputError } from './errors.js';
import type { AutoscaleSample, AutoscaleTargets } from './types.js';

/** The signals a sample may carry. */
export const SIGNALS = ['cpu', 'lag', 'p99Ms', 'pending', 'throughput'] as const;
/** The signals a target may be set for. */
const TARGETED = ['cpu', 'lag', 'p99Ms', 'pending'] as const;

const NonNegative = Type.Number({ minimum: 0 });
/** What `decide()` takes: the time, the replicas running, the latest value of each signal measured. */
const SampleSchema = Type.Object({
  now: Type.Number(),
  replicas: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
  // Signals missing this interval are left out.
  metrics: Type.Object(Object.fromEntries(SIGNALS.map((signal) => [signal, Type.Optional(NonNegative)])), { additionalProperties: false }),
  pods: Type.Optional(Type.Array(Type.Object({ cpu: Type.Optional(NonNegative), ready: Type.Optional(Type.Boolean()) }))),
});
const sampleShape = schemaCheck(SampleSchema, inputError, { root: 'the sample (decide() takes { now, replicas, metrics })' });

/** Checks a sample's shape and that time does not go backwards. */
export function checkSample(sample: AutoscaleSample, lastNow: number): { now: number; replicas: number } {
  sampleShape(sample);
  if (sample.now < lastNow) throw inputError(`now went backwards: ${sample.now} after ${lastNow}`);
  if (sample.pods !== undefined && sample.pods.length !== sample.replicas) throw inputError(`pods must list each of the ${sample.replicas} replicas`);
  return { now: sample.now, replicas: sample.replicas };
}

/** Replicas that serve now: those not marked not-ready (all of them without `pods`). */
export function readyReplicas(sample: AutoscaleSample): number {
  return sample.pods ? sample.pods.filter((p) => p.ready !== false).length : sample.replicas;
}

/** Targets per replica: each a positive number, for known signals only. */
const TargetsSchema = Type.Object(Object.fromEntries(TARGETED.map((signal) => [signal, Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: Number.MAX_SAFE_INTEGER }))])), {
  additionalProperties: false,
});
const targetsShape = schemaCheck(TargetsSchema, configError, { root: 'targets', prefix: 'targets' });

/** Checks `targets` (each a positive number, only known signals); returns them. */
export function checkTargets(targets: AutoscaleTargets | undefined): AutoscaleTargets {
  return targetsShape(targets ?? {}) as AutoscaleTargets;
}

/** The replica bounds every preset takes. */
export const BoundsSchema = {
  min: Type.Integer({ minimum: 0, maximum: 100_000 }),
  max: Type.Integer({ minimum: 1, maximum: 100_000 }),
};

/** Seconds, optional, from `minimum` to a day. */
export const Seconds = (minimum = 0) => Type.Optional(Type.Number({ minimum, maximum: 86_400 }));

/** A preset's options checked against `schema`, as `ERR_AUTOSCALE_CONFIG` naming the option. */
export function optionsCheck<S extends TSchema>(schema: S): (value: unknown) => Static<S> {
  return schemaCheck(schema, configError, { root: 'the options', prefix: 'options' });
}

/** `min` and `max` replicas of a pool, checked (each option's range by its schema). */
export function checkBounds(min: number, max: number): { min: number; max: number } {
  if (max < min) throw configError(`options.max (${max}) must be at least options.min (${min})`);
  return { min, max };
}

export const round = (v: number): string => (Math.round(v * 100) / 100).toString();
export const pct = (v: number): string => `${Math.round(v * 1000) / 10}%`;
