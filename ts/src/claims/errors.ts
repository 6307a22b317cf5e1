import { FleetscaleError } from '../errors.js';
import { checkInteger, checkNumber } from '../option-checks.js';

/** Stable error codes of the claims queue and simulator. */
export type ClaimsErrorCode =
  /** An option is missing, of the wrong type or out of range. */
  | 'ERR_CLAIMS_CONFIG'
  /** Data the queue or the model cannot take (not JSON, an unknown job, a saved report that is not one). */
  | 'ERR_CLAIMS_INPUT'
  /** The database failed or could not be reached. */
  | 'ERR_CLAIMS_UNAVAILABLE';

/** A {@link FleetscaleError} with one of the claims codes. */
export function claimsError(code: ClaimsErrorCode, message: string, cause?: unknown): FleetscaleError<ClaimsErrorCode> {
  return new FleetscaleError(code, message, { cause });
}

/** Checks an integer option: `name` must be an integer in [min, max]. */
export function intOption(name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  return checkInteger(name, value, min, max, configError);
}

/** Checks a number option: `name` must be finite and in [min, max]. */
export function numberOption(name: string, value: unknown, min: number, max = Number.MAX_VALUE): number {
  return checkNumber(name, value, min, max, configError);
}

function configError(message: string): Error {
  return claimsError('ERR_CLAIMS_CONFIG', message);
}
