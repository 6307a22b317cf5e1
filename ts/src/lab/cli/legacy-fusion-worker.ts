/**
 * `fleetscale lab fusion compare`'s legacy loop on a thread of its own: `fusePairwise` is one
 * long native call, and on the main thread it would leave the progress line frozen.
 */
import { parentPort, workerData } from 'node:worker_threads';

import { fusePairwise } from '../../fusion/fuse.js';
import type { SensorRecord } from '../../fusion/types.js';

const started = performance.now();
const result = fusePairwise(workerData.records as SensorRecord[]);
parentPort!.postMessage({ ms: performance.now() - started, events: result.events, candidates: result.stats.candidates });
