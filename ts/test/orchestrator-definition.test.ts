import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { checkDag, dag, type DagDefinition, loadDagDirectory, loadDagFile, parseDuration, renderCommand, tasksFor } from '../src/orchestrator/index.js';

const etl: DagDefinition = {
  id: 'etl',
  params: { day: '2026-12-07', rows: 1000 },
  tasks: [
    { id: 'load', command: 'load --day ${day}', dependencies: ['transform'], queue: 'db', tags: ['region:eu'], retries: 2, retryDelay: '500ms', timeout: '2m' },
    { id: 'extract', command: 'extract --day ${day} --rows ${rows}' },
    { id: 'transform', handler: 'transform', dependencies: ['extract'], priority: 5 },
    { id: 'report', handler: 'report', dependencies: ['load', 'check'], when: { task: 'check', outcome: ['big', 'huge'] } },
    { id: 'check', handler: 'check', dependencies: ['extract'] },
  ],
};

/** The definition with one task's fields replaced (or added). */
const withTask = (id: string, change: Record<string, unknown>): DagDefinition => ({
  ...etl,
  tasks: etl.tasks.map((t) => (t.id === id ? { ...t, ...change } : t)) as DagDefinition['tasks'],
});

const failure = (fn: () => unknown): { message: string; details: unknown } => {
  try {
    fn();
  } catch (error) {
    expect(error).toMatchObject({ name: 'FleetscaleError', code: 'ERR_ORCH_DEFINITION' });
    return error as { message: string; details: unknown };
  }
  throw new Error('expected ERR_ORCH_DEFINITION');
};

describe('DAG definitions', () => {
  it('check into tasks with defaults, an order with dependencies first, and dependents', () => {
    const d = checkDag(etl);
    expect(d.order).toEqual(['extract', 'transform', 'load', 'check', 'report']);
    expect(d.tasks.get('load')).toMatchObject({ queue: 'db', tags: ['region:eu'], retries: 2, retryDelayMs: 500, timeoutMs: 120_000, priority: 0 });
    expect(d.tasks.get('extract')).toMatchObject({ queue: 'default', tags: [], retries: 0, retryDelayMs: 1000, timeoutMs: 3_600_000, dependencies: [] });
    expect(d.tasks.get('report')!.when).toEqual({ task: 'check', outcomes: ['big', 'huge'] });
    expect(d.dependents.get('extract')).toEqual(['transform', 'check']);
    expect(d.dependents.get('report')).toEqual([]);
    for (const id of d.order) for (const dep of d.tasks.get(id)!.dependencies) expect(d.order.indexOf(dep)).toBeLessThan(d.order.indexOf(id));
  });

  it.each([
    [
      'an unknown dependency',
      withTask('load', { dependencies: ['transfrom'] }),
      'task "load", field "dependencies[0]": names "transfrom", which is no task of this DAG',
      { task: 'load', field: 'dependencies[0]' },
    ],
    ['a duplicate id', { ...etl, tasks: [...etl.tasks, { id: 'check', handler: 'x' }] }, 'task "check", field "id": another task has this id', { task: 'check', field: 'id' }],
    ['a bad queue', withTask('load', { queue: 'My Queue' }), 'task "load", field "queue": must be a queue name', { field: 'queue' }],
    ['a bad tag', withTask('load', { tags: ['gpu', 'Region:EU'] }), 'task "load", field "tags[1]": must be a tag like gpu or region:eu', { field: 'tags[1]' }],
    ['a bad timeout', withTask('load', { timeout: '30 seconds' }), 'task "load", field "timeout": must be a duration like 500ms, 30s, 2m or 1h', { field: 'timeout' }],
    ['a bad retry delay', withTask('load', { retryDelay: -5 }), 'field "retryDelay": must be a duration', { field: 'retryDelay' }],
    ['both command and handler', withTask('extract', { handler: 'x' }), 'task "extract", field "command": a task has exactly one of command or handler', { task: 'extract' }],
    ['an unknown field', withTask('extract', { retry: 3 }), 'task "extract", field "retry": unknown field', { field: 'retry' }],
    [
      'an unknown parameter',
      withTask('extract', { command: 'extract ${month}' }),
      'uses ${month}, which is not a parameter of the task or the DAG (day, rows)',
      { field: 'command' },
    ],
    [
      'a condition on a task it does not depend on',
      withTask('report', { when: { task: 'extract', outcome: 'x' } }),
      'field "when.task": names "extract", which is not one of this task\'s dependencies',
      { field: 'when.task' },
    ],
    ['negative retries', withTask('load', { retries: -1 }), 'field "retries": must be an integer from 0 to 100, got -1', { field: 'retries' }],
    ['no tasks', { id: 'empty', tasks: [] }, 'field "tasks": must be a non-empty array of tasks', { field: 'tasks' }],
  ])('refuse %s with ERR_ORCH_DEFINITION naming task and field', (_name, definition, message, details) => {
    const error = failure(() => checkDag(definition, { file: 'dags/etl.yaml' }));
    expect(error.message.startsWith('dags/etl.yaml: ')).toBe(true);
    expect(error.message).toContain(message);
    expect(error.details).toMatchObject({ file: 'dags/etl.yaml', ...details });
  });

  it('name a cycle by its tasks', () => {
    const cyclic = withTask('extract', { dependencies: ['load'] });
    expect(failure(() => checkDag(cyclic)).message).toMatch(/the dependencies form a cycle: (\w+) → (\w+) → (\w+) → \1$/);
    expect(failure(() => checkDag(cyclic)).message).toContain('load → transform → extract → load');
    expect(failure(() => checkDag(withTask('extract', { dependencies: ['extract'] }))).message).toMatch(/extract → extract|cannot depend on itself/);
  });

  it('give the tasks a target needs, dependencies first (outcome-based scheduling)', () => {
    const d = checkDag(etl);
    expect(tasksFor(d, 'load')).toEqual(['extract', 'transform', 'load']);
    expect(tasksFor(d, 'report')).toEqual(['extract', 'transform', 'load', 'check', 'report']);
    expect(tasksFor(d, 'extract')).toEqual(['extract']);
    expect(failure(() => tasksFor(d, 'nope')).message).toBe('DAG "etl" has no task "nope"');
  });

  it('render commands with run, task and DAG parameters, shell-quoted', () => {
    const d = checkDag(withTask('extract', { params: { rows: 5 } }));
    expect(renderCommand(d, 'extract')).toBe("extract --day '2026-12-07' --rows '5'");
    expect(renderCommand(d, 'extract', { day: "x'; rm -rf / #" })).toBe("extract --day 'x'\\''; rm -rf / #' --rows '5'");
    expect(failure(() => renderCommand(d, 'transform')).message).toContain('has no command');
  });

  it('parse durations', () => {
    expect([parseDuration('500ms'), parseDuration('30s'), parseDuration('2m'), parseDuration('1.5h'), parseDuration('1d'), parseDuration(250)]).toEqual([
      500, 30_000, 120_000, 5_400_000, 86_400_000, 250,
    ]);
    for (const bad of ['30', '-1s', '1w', '', Number.NaN, -1, null]) expect(parseDuration(bad), String(bad)).toBeUndefined();
  });

  it('build from the typed builder with the same checks', () => {
    const built = dag('nightly', { params: { day: 'today' } })
      .task('fetch', { command: 'fetch ${day}', queue: 'io' })
      .task('sum', { handler: 'sum', dependencies: ['fetch'], retries: 1 })
      .build();
    expect(built.order).toEqual(['fetch', 'sum']);
    expect(built.tasks.get('sum')).toMatchObject({ retries: 1, queue: 'default' });
    const error = failure(() =>
      dag('broken')
        .task('a', { handler: 'a', dependencies: ['b'] })
        .build(),
    );
    expect(error.message).toBe('DAG "broken" (builder): task "a", field "dependencies[0]": names "b", which is no task of this DAG');
  });

  it('load YAML and JSON files and a directory of them; a bad file names itself', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleetscale-dags-'));
    writeFileSync(
      join(dir, 'etl.yaml'),
      [
        'id: etl',
        'params:',
        '  day: "2026-12-07"',
        'tasks:',
        '  - id: extract',
        '    command: extract --day ${day}',
        '  - id: load',
        '    handler: load',
        '    dependencies: [extract]',
        '    timeout: 30s',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'other.json'), JSON.stringify({ id: 'other', tasks: [{ id: 'a', handler: 'a' }] }));
    writeFileSync(join(dir, 'notes.txt'), 'not a DAG');
    expect(loadDagFile(join(dir, 'etl.yaml')).tasks.get('load')).toMatchObject({ dependencies: ['extract'], timeoutMs: 30_000 });
    expect([...loadDagDirectory(dir).keys()]).toEqual(['etl', 'other']);
    writeFileSync(join(dir, 'broken.yaml'), 'id: broken\ntasks: [\n');
    expect(failure(() => loadDagFile(join(dir, 'broken.yaml'))).message).toMatch(/broken\.yaml: not valid YAML/);
    expect(failure(() => loadDagFile(join(dir, 'missing.yaml'))).message).toMatch(/missing\.yaml: cannot read it \(ENOENT\)/);
    mkdirSync(join(dir, 'dup'));
    writeFileSync(join(dir, 'dup', 'a.json'), JSON.stringify({ id: 'same', tasks: [{ id: 'a', handler: 'a' }] }));
    writeFileSync(join(dir, 'dup', 'b.json'), JSON.stringify({ id: 'same', tasks: [{ id: 'a', handler: 'a' }] }));
    expect(failure(() => loadDagDirectory(join(dir, 'dup'))).message).toMatch(/b\.json: DAG id "same" is also .*a\.json's/);
  });
});
