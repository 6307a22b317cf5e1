/** A typed builder of DAGs: the same checks as a file gets, at `build()`. */
import { checkDag, type Dag, type DagDefinition, type ParamValue, type TaskDefinition } from './definition.js';

/** Builds a DAG task by task: `dag('etl', { params }).task('extract', { command }).task(...).build()`. */
export class DagBuilder {
  readonly #definition: DagDefinition;

  constructor(id: string, options: { description?: string; params?: Record<string, ParamValue> } = {}) {
    this.#definition = { id, ...options, tasks: [] };
  }

  /** Adds a task; `dependencies` name tasks added before or after. */
  task(id: string, task: Omit<TaskDefinition, 'id'>): this {
    this.#definition.tasks.push({ id, ...task });
    return this;
  }

  /** The definition as a DAG file would hold it. */
  toDefinition(): DagDefinition {
    return structuredClone(this.#definition);
  }

  /** Checks the definition (`ERR_ORCH_DEFINITION` naming the task and field) into a `Dag`. */
  build(): Dag {
    return checkDag(this.#definition, { file: `DAG "${this.#definition.id}" (builder)` });
  }
}

/** Starts a DAG definition. */
export function dag(id: string, options: { description?: string; params?: Record<string, ParamValue> } = {}): DagBuilder {
  return new DagBuilder(id, options);
}
