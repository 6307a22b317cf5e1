// The compiled facade (dist/src) loads the binding from ../native: point dist/native at the
// generated loader in ts/native, which finds the built .node file next to itself.
import { mkdirSync, writeFileSync } from 'node:fs';

mkdirSync('dist/native', { recursive: true });
writeFileSync('dist/native/binding.cjs', "module.exports = require('../../ts/native/binding.cjs');\n");
writeFileSync('dist/native/binding.d.cts', "export * from '../../ts/native/binding.cjs';\n");
// The bench-only load generator's binding (npm run build:load), when built.
mkdirSync('dist/native/load', { recursive: true });
writeFileSync('dist/native/load/binding.cjs', "module.exports = require('../../../ts/native/load/binding.cjs');\n");
