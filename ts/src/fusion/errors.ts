/** Stable error codes of the fusion API. */
export type FusionErrorCode = 'ERR_FUSION_CONFIG' | 'ERR_FUSION_INPUT';

/** An `Error` whose `code` says which contract the caller broke. */
export interface FusionError extends Error {
  code: FusionErrorCode;
}

/** Creates an `Error` with a stable `code`, as the native layer throws them. */
export function fusionError(code: FusionErrorCode, message: string): FusionError {
  const error = new Error(message) as FusionError;
  error.code = code;
  return error;
}

/** Whether `error` is one of the fusion API's coded errors. */
export function isFusionError(error: unknown): error is FusionError {
  return (
    error instanceof Error &&
    ((error as FusionError).code === 'ERR_FUSION_CONFIG' ||
      (error as FusionError).code === 'ERR_FUSION_INPUT')
  );
}
