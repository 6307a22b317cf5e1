/** Seeded fleets with known truth. */
import { native } from '../native.js';
import { fusionError } from './errors.js';
import type { SensorColumns, SensorRecord } from './types.js';

/** What to generate. */
export type FleetOptions = {
  nodes: number;
  obsPerNode: number;
  seed: number;
  /** Scales time/position noise and class confusion (default 1). */
  noise?: number;
  /** Put every event on a corner of the default blocking grid (default false). */
  edgeStress?: boolean;
};

/** A generated fleet: records, and the true event of each record id (null for clutter). */
export type Fleet = { records: SensorRecord[]; truth: Record<string, string | null> };

function generateNative(opts: FleetOptions) {
  if (opts === null || typeof opts !== 'object') throw fusionError('ERR_FUSION_INPUT', 'generateFleet needs { nodes, obsPerNode, seed }');
  const { nodes, obsPerNode, seed, noise = 1, edgeStress = false } = opts;
  for (const [k, v] of Object.entries({ nodes, obsPerNode, seed, noise })) {
    if (typeof v !== 'number') throw fusionError('ERR_FUSION_INPUT', `generateFleet: ${k} must be a number, got ${typeof v}`);
  }
  return native.generateFleetColumns(nodes, obsPerNode, seed, noise, Boolean(edgeStress));
}

const nodeName = (i: number): string => `node-${i}`;
const recordId = (node: number, obs: number): string => `n${node}-o${obs}`;

/**
 * Generates a fleet: `nodes` on a jittered grid, each reporting exactly `obsPerNode`
 * observations of nearby events (2–4 nodes see each), with time and position noise, class
 * confusion and 5% clutter. Density stays fixed as the fleet grows. Same options, same fleet.
 */
export function generateFleet(opts: FleetOptions): Fleet {
  const f = generateNative(opts);
  const n = f.node.length;
  const records = new Array<SensorRecord>(n);
  const truth: Record<string, string | null> = {};
  for (let i = 0; i < n; i++) {
    const id = recordId(f.node[i], f.obs[i]);
    records[i] = { id, node: nodeName(f.node[i]), cls: f.classes[f.cls[i]], t: f.t[i], lat: f.lat[i], lon: f.lon[i] };
    truth[id] = f.truth[i] < 0 ? null : `e${f.truth[i]}`;
  }
  return { records, truth };
}

/** The same fleet as `generateFleet`, in columns (for bulk `fuse`), with truth per row. */
export function generateFleetColumns(opts: FleetOptions): { columns: SensorColumns; truth: Int32Array } {
  const f = generateNative(opts);
  const nodeNames = Array.from({ length: opts.nodes }, (_, i) => nodeName(i));
  const ids = Array.from(f.node, (node, i) => recordId(node, f.obs[i]));
  return {
    columns: { ids, node: f.node, nodeNames, cls: f.cls, classNames: f.classes, t: f.t, lat: f.lat, lon: f.lon },
    truth: f.truth,
  };
}
