import { FleetscaleError } from '../errors.js';

/** Stable error codes of the autoscaler. */
export type AutoscaleErrorCode =
  /** An option of `createAutoscaler` is missing, of the wrong type or out of range. */
  | 'ERR_AUTOSCALE_CONFIG'
  /** A `decide()` sample is malformed (replicas, time going backwards, a metric out of range). */
  | 'ERR_AUTOSCALE_INPUT';

/** A {@link FleetscaleError} with one of the autoscaler's codes. */
export function autoscaleError(code: AutoscaleErrorCode, message: string): FleetscaleError<AutoscaleErrorCode> {
  return new FleetscaleError(code, message);
}

/** The configuration error factory the shared option checks take. */
export const configError = (message: string) => autoscaleError('ERR_AUTOSCALE_CONFIG', message);

/** The sample error factory. */
export const inputError = (message: string) => autoscaleError('ERR_AUTOSCALE_INPUT', message);
