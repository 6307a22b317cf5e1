import { dag, renderCommand, tasksFor } from 'fleetscale/orchestrator';

// A DAG: extract, then transform and a check, then load; a report only when the check says "big".
const etl = dag('etl', { params: { day: '2026-12-07' } })
  .task('extract', { command: 'extract --day ${day}', queue: 'io', timeout: '5m', retries: 2 })
  .task('transform', { handler: 'transform', dependencies: ['extract'] })
  .task('check', { handler: 'check', dependencies: ['extract'] })
  .task('load', { command: 'load --day ${day}', dependencies: ['transform'], tags: ['region:eu'] })
  .task('report', { handler: 'report', dependencies: ['load', 'check'], when: { task: 'check', outcome: 'big' } })
  .build(); // the checks a DAG file gets: unknown dependencies, cycles, names, durations

console.log(`order: ${etl.order.join(', ')}`);
// Outcome-based scheduling: what a run of one target needs.
console.log(`load needs: ${tasksFor(etl, 'load').join(', ')}`);
// Commands get their parameters shell-quoted.
console.log(renderCommand(etl, 'extract', { day: '2026-12-08' }));
