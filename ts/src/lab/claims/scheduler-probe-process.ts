/**
 * One busy process of the scheduler probe (`scheduler-probe.ts`): spins on the clock for
 * argv[2] ms and sends back its uninterrupted runs and the gaps between them (a gap is a
 * pause of its clock longer than argv[3] ms: it was switched out).
 */
import type { SliceProbeSample } from './scheduler-probe.js';

const durationMs = Number(process.argv[2]);
const gapMs = Number(process.argv[3]);
const runs: number[] = [];
const gaps: number[] = [];
const end = performance.now() + durationMs;
let last = performance.now();
let runStart: number | undefined; // undefined until the first switch: the first run is partial
for (;;) {
  const now = performance.now();
  if (now - last > gapMs) {
    if (runStart !== undefined) runs.push(last - runStart);
    gaps.push(now - last);
    runStart = now;
  }
  last = now;
  if (now > end) break; // the run under way when time is up is partial: not kept
}
process.send!({ runs, gaps } satisfies SliceProbeSample, () => process.exit(0));
