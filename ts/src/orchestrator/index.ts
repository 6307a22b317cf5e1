/**
 * `fleetscale/orchestrator`: DAGs of tasks run on agents. This release has the model: DAG
 * definitions from YAML or JSON files or a typed builder, checked at load time, the tasks a
 * target needs, and commands with their parameters. The engine, the stores and the agents are
 * being built (see the README's status).
 */
export { dag, DagBuilder } from './builder.js';
export { checkDag, renderCommand, tasksFor } from './definition.js';
export type { Dag, DagDefinition, DefinitionSource, ParamValue, Task, TaskCondition, TaskDefinition } from './definition.js';
export { parseDuration } from './durations.js';
export { loadDagDirectory, loadDagFile } from './load.js';
export { FleetscaleError, isFleetscaleError } from '../errors.js';
