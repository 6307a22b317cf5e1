/** Stable error codes of the autoscaler. */
export type AutoscaleErrorCode =
  /** An option of `createAutoscaler` is missing, of the wrong type or out of range. */
  | 'ERR_AUTOSCALE_CONFIG'
  /** A `decide()` sample is malformed (replicas, time going backwards, a metric out of range). */
  | 'ERR_AUTOSCALE_INPUT';

/** An `Error` whose `code` says which contract broke. */
export interface AutoscaleError extends Error {
  code: AutoscaleErrorCode;
}

/** Makes an {@link AutoscaleError}. */
export function autoscaleError(code: AutoscaleErrorCode, message: string): AutoscaleError {
  const error = new Error(message) as AutoscaleError;
  error.code = code;
  return error;
}

/** Whether `error` is one of the autoscaler's coded errors. */
export function isAutoscaleError(error: unknown): error is AutoscaleError {
  return error instanceof Error && ((error as AutoscaleError).code === 'ERR_AUTOSCALE_CONFIG' || (error as AutoscaleError).code === 'ERR_AUTOSCALE_INPUT');
}

/** The configuration error factory the shared option checks take. */
export const configError = (message: string): AutoscaleError => autoscaleError('ERR_AUTOSCALE_CONFIG', message);

/** The sample error factory. */
export const inputError = (message: string): AutoscaleError => autoscaleError('ERR_AUTOSCALE_INPUT', message);
