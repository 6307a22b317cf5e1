import { FleetscaleError, isFleetscaleError, type FleetscaleErrorOptions } from '../errors.js';

/**
 * The hub's error codes. Every rejection is `{ error: { code, message } }` with the status
 * listed here; clients branch on `code`, never on the message.
 */
export const hubErrors = {
  ERR_VALIDATION: 400,
  ERR_INVALID_JSON: 400,
  ERR_BATCH_TOO_LARGE: 400,
  ERR_RESERVED_NODE: 400,
  ERR_UNAUTHORIZED: 401,
  ERR_FORBIDDEN_NODE: 403,
  ERR_ROUND_NOT_FOUND: 404,
  ERR_ROUTE_NOT_FOUND: 404,
  ERR_METHOD_NOT_ALLOWED: 405,
  ERR_ROUND_OPEN: 409,
  ERR_ROUND_FUSING: 409,
  ERR_ROUND_CLOSED: 409,
  ERR_NOT_ANNOUNCED: 409,
  ERR_BATCH_CONFLICT: 409,
  ERR_AFTER_FINAL: 409,
  ERR_DUPLICATE_RECORD_ID: 409,
  ERR_BODY_TOO_LARGE: 413,
  ERR_UNSUPPORTED_MEDIA_TYPE: 415,
  ERR_BAD_REQUEST: 400,
  ERR_FUSION_FAILED: 500,
  ERR_INTERNAL: 500,
  ERR_STORE_UNAVAILABLE: 503,
  ERR_OVERLOADED: 503,
} as const;

export type HubErrorCode = keyof typeof hubErrors;

/** An error the hub answers with its status and code: a {@link FleetscaleError} with the HTTP status beside it. */
export class HubError extends FleetscaleError<HubErrorCode> {
  /** The HTTP status the hub answers with. */
  readonly statusCode: number;

  constructor(code: HubErrorCode, message: string, options?: FleetscaleErrorOptions) {
    super(code, message, options);
    this.statusCode = hubErrors[code];
  }
}

/** The JSON body of every rejection. */
export type HubErrorBody = { error: { code: string; message: string } };

/** Whether `error` is a {@link HubError} (also across module copies). */
export function isHubError(error: unknown): error is HubError {
  return isFleetscaleError(error) && error.code in hubErrors && typeof (error as HubError).statusCode === 'number';
}
