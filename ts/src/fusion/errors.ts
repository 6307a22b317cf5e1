import { FleetscaleError, hasCodePrefix } from '../errors.js';

/** Stable error codes of the fusion API. */
export type FusionErrorCode = 'ERR_FUSION_CONFIG' | 'ERR_FUSION_INPUT';

/** A {@link FleetscaleError} with one of fusion's codes. */
export function fusionError(code: FusionErrorCode, message: string): FleetscaleError<FusionErrorCode> {
  return new FleetscaleError(code, message);
}

/** Whether `error` is one of fusion's coded errors (the caller's mistake, not a failure). */
export function isFusionError(error: unknown): error is FleetscaleError<FusionErrorCode> {
  return hasCodePrefix(error, 'ERR_FUSION_');
}
