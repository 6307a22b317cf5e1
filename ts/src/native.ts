/**
 * The generated N-API loader (`ts/native/binding.cjs`), loaded from ESM. Internal: the public
 * surface is each capability's `index.ts`.
 */
import { createRequire } from 'node:module';

import type * as Binding from '../native/binding.cjs';
import { fromNative } from './errors.js';

const require = createRequire(import.meta.url);

/**
 * Each native function wrapped so that what it throws (or its promise rejects with) is a
 * `FleetscaleError` with the core's stable code, not napi-rs's plain `Error`.
 */
function coded<T extends object>(binding: T): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(binding)) {
    if (typeof value !== 'function') {
      wrapped[name] = value;
      continue;
    }
    const fn = value as (...args: unknown[]) => unknown;
    wrapped[name] = (...args: unknown[]) => {
      let out: unknown;
      try {
        out = fn(...args);
      } catch (error) {
        throw fromNative(error);
      }
      return out instanceof Promise ? out.catch((error: unknown) => Promise.reject(fromNative(error))) : out;
    };
  }
  return wrapped as T;
}

/** The native binding. */
export const native: typeof Binding = coded(require('../native/binding.cjs') as typeof Binding);

export type {
  NativeColumns,
  NativeField,
  NativeFusion,
  NativeFleet,
  NativeQuality,
  NativeBlockingQuality,
} from '../native/binding.cjs';
