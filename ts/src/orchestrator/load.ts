/** DAG files: YAML (`.yaml`, `.yml`) or JSON (`.json`), one DAG each; a directory of them. */
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';

import { parse as parseYaml } from 'yaml';

import { FleetscaleError } from '../errors.js';
import { checkDag, type Dag } from './definition.js';

const EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

/** Reads and checks one DAG file; a file that cannot be read or parsed is `ERR_ORCH_DEFINITION` too. */
export function loadDagFile(path: string): Dag {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new FleetscaleError('ERR_ORCH_DEFINITION', `${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, {
      cause: error,
      details: { file: path },
    });
  }
  const extension = extname(path).toLowerCase();
  if (!EXTENSIONS.has(extension)) throw new FleetscaleError('ERR_ORCH_DEFINITION', `${path}: a DAG file is .yaml, .yml or .json`, { details: { file: path } });
  let definition: unknown;
  try {
    definition = extension === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new FleetscaleError('ERR_ORCH_DEFINITION', `${path}: not valid ${extension === '.json' ? 'JSON' : 'YAML'}: ${(error as Error).message.split('\n')[0]}`, {
      cause: error,
      details: { file: path },
    });
  }
  return checkDag(definition, { file: path });
}

/** Every DAG file of a directory (not its subdirectories), by id; two files with one id are an error. */
export function loadDagDirectory(dir: string): Map<string, Dag> {
  const dags = new Map<string, Dag>();
  const from = new Map<string, string>();
  for (const name of readdirSync(dir).sort()) {
    if (!EXTENSIONS.has(extname(name).toLowerCase())) continue;
    const path = join(dir, name);
    const dag = loadDagFile(path);
    if (dags.has(dag.id)) throw new FleetscaleError('ERR_ORCH_DEFINITION', `${path}: DAG id "${dag.id}" is also ${from.get(dag.id)}'s`, { details: { file: path } });
    dags.set(dag.id, dag);
    from.set(dag.id, path);
  }
  return dags;
}
