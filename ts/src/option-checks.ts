/**
 * Range checks for numeric options, shared by every capability. Each takes the capability's own
 * error factory, so a mistake is reported with that capability's stable code.
 */

/** Makes the capability's configuration error from a message. */
export type ConfigErrorFactory = (message: string) => Error;

/** `value` must be an integer in [min, max]. */
export function checkInteger(name: string, value: unknown, min: number, max: number, fail: ConfigErrorFactory): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw fail(`${name} must be an integer in [${min}, ${max}], got ${JSON.stringify(value)}`);
  }
  return value;
}

/** `value` must be a finite number in [min, max]. */
export function checkNumber(name: string, value: unknown, min: number, max: number, fail: ConfigErrorFactory): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw fail(`${name} must be a number in [${min}, ${max}], got ${JSON.stringify(value)}`);
  }
  return value;
}
