/** Native columnar output → `FusionResult` in the records' own ids and names. */
import type { NativeFusion } from '../native.js';
import type { PreparedInput } from './columns.js';
import type { FusedEvent, FusionResult } from './types.js';

/** Builds the public result; `extraTimings` (ms) are added to the native phases. */
export function toResult(out: NativeFusion, input: PreparedInput, extraTimings: Record<string, number>): FusionResult {
  const started = performance.now();
  const { eventOffsets, eventMembers, eventClass, eventT, eventLat, eventLon, eventScore } = out;
  const { ids, nodeNames, classNames } = input;
  const idOf = ids ? (row: number) => ids[row] : (row: number) => String(row);
  const nodeOf = input.columns.node;
  const count = eventT.length;
  const events = new Array<FusedEvent>(count);
  for (let e = 0; e < count; e++) {
    const from = eventOffsets[e];
    const to = eventOffsets[e + 1];
    const members = new Array<string>(to - from);
    let nodes: string[] = [];
    for (let k = from; k < to; k++) {
      const row = eventMembers[k];
      members[k - from] = idOf(row);
      nodes.push(nodeNames[nodeOf[row]]);
    }
    // Events are small; dedupe large ones (without onePerNode) through a Set.
    if (nodes.length > 1) nodes = nodes.length > 16 ? [...new Set(nodes)] : nodes.filter((x, i) => nodes.indexOf(x) === i);
    // Default sort orders strings by UTF-16 code units, like `<`.
    if (members.length > 1) {
      members.sort();
      nodes.sort();
    }
    const cls = eventClass[e];
    events[e] = {
      id: e,
      members,
      nodes,
      cls: cls >= 0 && classNames ? classNames[cls] : '',
      t: eventT[e],
      lat: eventLat[e],
      lon: eventLon[e],
      score: eventScore[e],
    };
  }
  const s = out.stats;
  const timingsMs: Record<string, number> = { ...extraTimings };
  for (const { phase, ms } of s.timings) timingsMs[phase] = ms;
  timingsMs.result = performance.now() - started;
  return {
    events,
    stats: {
      records: s.records,
      blocks: s.blocks,
      largestBlock: s.largestBlock,
      candidates: s.candidates,
      scored: s.scored,
      matched: s.matched,
      timingsMs,
    },
  };
}
