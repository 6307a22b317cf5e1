/**
 * DAG definitions: what a DAG file (YAML or JSON) or the builder describes, checked at load time
 * into a `Dag` the engine runs. Every mistake is `ERR_ORCH_DEFINITION` naming the file, the task
 * and the field (also in `details`), and a cycle is named by its tasks.
 */
import { FleetscaleError } from '../errors.js';
import { parseDuration } from './durations.js';

/** A parameter's value: what `${name}` in a command becomes (shell-quoted). */
export type ParamValue = string | number | boolean;

/** A condition on an upstream task's outcome: the task runs only if `task` reported one of `outcome`. */
export type TaskCondition = { task: string; outcome: string | string[] };

/** One task as a DAG file writes it. */
export type TaskDefinition = {
  id: string;
  /** A shell command; `${param}` is replaced by the run's value of that parameter, shell-quoted. */
  command?: string;
  /** The name of a JS handler registered with the agent (instead of a command). */
  handler?: string;
  /** Tasks that must succeed first. */
  dependencies?: string[];
  /** The queue agents claim it from (default `default`). */
  queue?: string;
  /** Tags an agent must have to run it (`gpu`, `region:eu`). */
  tags?: string[];
  /** Parameters of this task, with defaults, over the DAG's. */
  params?: Record<string, ParamValue>;
  /** Attempts after the first that fails (default 0). */
  retries?: number;
  /** Wait before the first retry, doubled for each one after (default `1s`). */
  retryDelay?: string | number;
  /** Longest an attempt may run (default `1h`). */
  timeout?: string | number;
  /** Higher runs first among ready tasks of one queue (default 0). */
  priority?: number;
  /** Run only when an upstream task (one of `dependencies`) reported one of these outcomes; skipped otherwise. */
  when?: TaskCondition;
};

/** A DAG as a file writes it. */
export type DagDefinition = { id: string; description?: string; params?: Record<string, ParamValue>; tasks: TaskDefinition[] };

/** A checked task: durations in ms, defaults filled in. */
export type Task = {
  id: string;
  command: string | undefined;
  handler: string | undefined;
  dependencies: string[];
  queue: string;
  tags: string[];
  params: Record<string, ParamValue>;
  retries: number;
  retryDelayMs: number;
  timeoutMs: number;
  priority: number;
  when: { task: string; outcomes: string[] } | undefined;
};

/** A checked DAG: its tasks in an order where every task comes after its dependencies. */
export type Dag = {
  id: string;
  description: string | undefined;
  params: Record<string, ParamValue>;
  tasks: ReadonlyMap<string, Task>;
  /** Task ids, dependencies first. */
  order: readonly string[];
  /** Task id → the tasks that depend on it. */
  dependents: ReadonlyMap<string, readonly string[]>;
};

/** Where a definition came from, for messages (a file path, or `builder`). */
export type DefinitionSource = { file?: string };

const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const QUEUE = /^[a-z0-9][a-z0-9_.-]{0,62}$/;
const TAG = /^[a-z0-9][a-z0-9_.-]{0,62}(:[a-z0-9][a-z0-9_.-]{0,62})?$/;
const PARAM = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const PLACEHOLDER = /\$\{([^}]*)\}/g;
const TASK_FIELDS = new Set(['id', 'command', 'handler', 'dependencies', 'queue', 'tags', 'params', 'retries', 'retryDelay', 'timeout', 'priority', 'when']);
const DAG_FIELDS = new Set(['id', 'description', 'params', 'tasks']);

/** Checks a definition into a `Dag`; throws `ERR_ORCH_DEFINITION` naming file, task and field. */
export function checkDag(definition: unknown, source: DefinitionSource = {}): Dag {
  const where = source.file ?? 'DAG definition';
  const fail = (message: string, task?: string, field?: string): never => {
    const at = [task !== undefined ? `task "${task}"` : undefined, field !== undefined ? `field "${field}"` : undefined].filter(Boolean).join(', ');
    throw new FleetscaleError('ERR_ORCH_DEFINITION', `${where}: ${at ? `${at}: ` : ''}${message}`, { details: { file: source.file, task, field } });
  };
  if (definition === null || typeof definition !== 'object' || Array.isArray(definition)) fail('a DAG is an object { id, params?, tasks: [...] }');
  const d = definition as Record<string, unknown>;
  for (const key of Object.keys(d)) if (!DAG_FIELDS.has(key)) fail(`unknown field (known: ${[...DAG_FIELDS].join(', ')})`, undefined, key);
  if (typeof d.id !== 'string' || !ID.test(d.id)) fail(`must be an id of letters, digits, _ . - (at most 128), got ${JSON.stringify(d.id)}`, undefined, 'id');
  const params = checkParams(d.params, (message, field) => fail(message, undefined, field), 'params');
  if (d.description !== undefined && typeof d.description !== 'string') fail('must be a string', undefined, 'description');
  if (!Array.isArray(d.tasks) || d.tasks.length === 0) fail('must be a non-empty array of tasks', undefined, 'tasks');

  const tasks = new Map<string, Task>();
  for (const [index, raw] of (d.tasks as unknown[]).entries()) {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail('must be an object { id, command | handler, ... }', undefined, `tasks[${index}]`);
    const t = raw as Record<string, unknown>;
    if (typeof t.id !== 'string' || !ID.test(t.id)) fail(`must be an id of letters, digits, _ . - (at most 128), got ${JSON.stringify(t.id)}`, undefined, `tasks[${index}].id`);
    const id = t.id as string;
    const bad = (message: string, field: string): never => fail(message, id, field);
    if (tasks.has(id)) bad('another task has this id; ids must be unique in a DAG', 'id');
    for (const key of Object.keys(t)) if (!TASK_FIELDS.has(key)) bad(`unknown field (known: ${[...TASK_FIELDS].join(', ')})`, key);
    if ((t.command === undefined) === (t.handler === undefined)) bad('a task has exactly one of command or handler', 'command');
    if (t.command !== undefined && (typeof t.command !== 'string' || t.command.trim() === '')) bad('must be a non-empty shell command', 'command');
    if (t.handler !== undefined && (typeof t.handler !== 'string' || !ID.test(t.handler))) bad(`must be a handler name, got ${JSON.stringify(t.handler)}`, 'handler');
    const dependencies = (t.dependencies ?? []) as string[];
    if (!Array.isArray(dependencies) || dependencies.some((x) => typeof x !== 'string')) bad('must be an array of task ids', 'dependencies');
    if (new Set(dependencies).size !== dependencies.length) bad('names a task twice', 'dependencies');
    const queue = t.queue ?? 'default';
    if (typeof queue !== 'string' || !QUEUE.test(queue)) bad(`must be a queue name of lowercase letters, digits, _ . - (at most 63), got ${JSON.stringify(queue)}`, 'queue');
    const tags = t.tags ?? [];
    if (!Array.isArray(tags)) bad('must be an array of tags', 'tags');
    for (const [k, tag] of (tags as unknown[]).entries()) {
      if (typeof tag !== 'string' || !TAG.test(tag)) bad(`must be a tag like gpu or region:eu (lowercase), got ${JSON.stringify(tag)}`, `tags[${k}]`);
    }
    const taskParams = checkParams(t.params, (message, field) => bad(message, field), 'params');
    const retries = (t.retries ?? 0) as number;
    if (typeof retries !== 'number' || !Number.isInteger(retries) || retries < 0 || retries > 100)
      bad(`must be an integer from 0 to 100, got ${JSON.stringify(retries)}`, 'retries');
    const retryDelayMs = duration(t.retryDelay ?? '1s', (message) => bad(message, 'retryDelay'));
    const timeoutMs = duration(t.timeout ?? '1h', (message) => bad(message, 'timeout'));
    if (timeoutMs <= 0) bad('must be longer than 0', 'timeout');
    const priority = (t.priority ?? 0) as number;
    if (typeof priority !== 'number' || !Number.isInteger(priority) || Math.abs(priority) > 1_000_000)
      bad(`must be an integer from -1000000 to 1000000, got ${JSON.stringify(priority)}`, 'priority');
    let when: Task['when'];
    if (t.when !== undefined) {
      const w = t.when as Record<string, unknown>;
      if (w === null || typeof w !== 'object' || typeof w.task !== 'string') bad('must be { task, outcome }', 'when');
      if (!dependencies.includes(w.task as string)) bad(`names "${String(w.task)}", which is not one of this task's dependencies`, 'when.task');
      const outcomes = Array.isArray(w.outcome) ? w.outcome : [w.outcome];
      if (outcomes.length === 0 || outcomes.some((o) => typeof o !== 'string' || o === '')) bad('must be an outcome or a non-empty array of them', 'when.outcome');
      when = { task: w.task as string, outcomes: outcomes as string[] };
    }
    const known = { ...params, ...taskParams };
    if (typeof t.command === 'string') {
      for (const [, name] of t.command.matchAll(PLACEHOLDER)) {
        if (!(name! in known)) bad(`uses \${${name}}, which is not a parameter of the task or the DAG (${Object.keys(known).join(', ') || 'none'})`, 'command');
      }
    }
    tasks.set(id, {
      id,
      command: t.command as string | undefined,
      handler: t.handler as string | undefined,
      dependencies,
      queue: queue as string,
      tags: tags as string[],
      params: taskParams,
      retries,
      retryDelayMs,
      timeoutMs,
      priority,
      when,
    });
  }
  for (const task of tasks.values()) {
    for (const [k, dep] of task.dependencies.entries()) {
      if (!tasks.has(dep)) fail(`names "${dep}", which is no task of this DAG`, task.id, `dependencies[${k}]`);
      if (dep === task.id) fail('a task cannot depend on itself', task.id, `dependencies[${k}]`);
    }
  }
  const order = topologicalOrder(tasks, (cycle) => fail(`the dependencies form a cycle: ${cycle.join(' → ')}`, cycle[0], 'dependencies'));
  const dependents = new Map<string, string[]>([...tasks.keys()].map((id) => [id, []]));
  for (const id of order) for (const dep of tasks.get(id)!.dependencies) dependents.get(dep)!.push(id);
  return { id: d.id as string, description: d.description as string | undefined, params, tasks, order, dependents };
}

function checkParams(value: unknown, bad: (message: string, field: string) => never, field: string): Record<string, ParamValue> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) bad('must be an object of name: default value', field);
  for (const [name, v] of Object.entries(value as object)) {
    if (!PARAM.test(name)) bad('a parameter name is letters, digits and _ (not starting with a digit)', `${field}.${name}`);
    if (typeof v !== 'string' && typeof v !== 'boolean' && !(typeof v === 'number' && Number.isFinite(v)))
      bad(`must be a string, number or boolean, got ${JSON.stringify(v)}`, `${field}.${name}`);
  }
  return { ...(value as Record<string, ParamValue>) };
}

function duration(value: unknown, bad: (message: string) => never): number {
  const ms = parseDuration(value);
  return ms === undefined ? bad(`must be a duration like 500ms, 30s, 2m or 1h (or milliseconds), got ${JSON.stringify(value)}`) : ms;
}

/** Task ids with every task after its dependencies (depth first, in definition order); `cycle` gets a cycle's ids, the first repeated last. */
function topologicalOrder(tasks: ReadonlyMap<string, Task>, cycle: (ids: string[]) => never): string[] {
  const state = new Map<string, 'visiting' | 'done'>();
  const order: string[] = [];
  const stack: string[] = [];
  const visit = (id: string): void => {
    const seen = state.get(id);
    if (seen === 'done') return;
    if (seen === 'visiting') cycle([...stack.slice(stack.indexOf(id)), id]);
    state.set(id, 'visiting');
    stack.push(id);
    for (const dep of tasks.get(id)!.dependencies) visit(dep);
    stack.pop();
    state.set(id, 'done');
    order.push(id);
  };
  for (const id of tasks.keys()) visit(id);
  return order;
}

/** The tasks a run of `target` needs (outcome-based scheduling): the target and, recursively, its dependencies, dependencies first. */
export function tasksFor(dag: Dag, target: string): string[] {
  if (!dag.tasks.has(target)) throw new FleetscaleError('ERR_ORCH_DEFINITION', `DAG "${dag.id}" has no task "${target}"`, { details: { task: target } });
  const needed = new Set<string>();
  const add = (id: string): void => {
    if (needed.has(id)) return;
    needed.add(id);
    for (const dep of dag.tasks.get(id)!.dependencies) add(dep);
  };
  add(target);
  return dag.order.filter((id) => needed.has(id));
}

/** A shell value, single-quoted. */
function shellQuote(value: ParamValue): string {
  return `'${String(value).replaceAll("'", `'\\''`)}'`;
}

/** A task's command with each `${param}` replaced by its value (the run's, else the task's default, else the DAG's), shell-quoted. */
export function renderCommand(dag: Dag, taskId: string, runParams: Record<string, ParamValue> = {}): string {
  const task = dag.tasks.get(taskId);
  if (!task?.command) throw new FleetscaleError('ERR_ORCH_DEFINITION', `task "${taskId}" of DAG "${dag.id}" has no command`, { details: { task: taskId } });
  const values = { ...dag.params, ...task.params, ...runParams };
  return task.command.replace(PLACEHOLDER, (_, name: string) => shellQuote(values[name]!));
}
