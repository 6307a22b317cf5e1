/**
 * The generated N-API loader (`ts/native/binding.cjs`), loaded from ESM. Internal: the public
 * surface is `index.ts`.
 */
import { createRequire } from 'node:module';

import type * as Binding from '../native/binding.cjs';

const require = createRequire(import.meta.url);

/** The native binding. */
export const native: typeof Binding = require('../native/binding.cjs');

export type {
  NativeColumns,
  NativeField,
  NativeFusion,
  NativeFleet,
  NativeQuality,
  NativeBlockingQuality,
} from '../native/binding.cjs';
