/** Native columnar output → `FusionResult` in the records' own ids and names. */
import type { NativeFusion } from '../native.js';
import type { PreparedInput } from './columns.js';
import type { FusedEvent, FusionResult } from './types.js';

/** Events up to this size are sorted by insertion; larger ones (possible without onePerNode) by sort. */
const SMALL_EVENT = 24;

/**
 * Puts `value` into its place among the first `count` (sorted) items of `list`. Events are
 * small, and this beats a sort with a comparator callback on 2–5 items by a wide margin.
 */
function insertSorted(list: string[], count: number, value: string): void {
  let k = count;
  while (k > 0 && list[k - 1] > value) {
    list[k] = list[k - 1];
    k--;
  }
  list[k] = value;
}

/** Builds the public result; `extraTimings` (ms) are added to the native phases. */
export function toResult(out: NativeFusion, input: PreparedInput, extraTimings: Record<string, number>): FusionResult {
  const started = performance.now();
  const { eventOffsets, eventMembers, eventClass, eventT, eventLat, eventLon, eventScore } = out;
  const { ids, nodeNames, classNames } = input;
  // Columns without ids name records by row.
  const idList = ids ?? Array.from({ length: input.length }, (_, row) => String(row));
  const nodeOf = input.columns.node;
  const count = eventT.length;
  const events = new Array<FusedEvent>(count);
  const codes = new Uint32Array(SMALL_EVENT);
  for (let e = 0; e < count; e++) {
    const from = eventOffsets[e];
    const to = eventOffsets[e + 1];
    const size = to - from;
    const members = new Array<string>(size);
    let nodes: string[];
    if (size === 1) {
      const row = eventMembers[from];
      members[0] = idList[row];
      nodes = [nodeNames[nodeOf[row]]];
    } else if (size <= SMALL_EVENT) {
      // Node names are distinct per code (checked on input), so codes tell repeats apart.
      nodes = new Array<string>(size);
      let distinct = 0;
      for (let k = 0; k < size; k++) {
        const row = eventMembers[from + k];
        insertSorted(members, k, idList[row]);
        const code = nodeOf[row];
        let seen = false;
        for (let j = 0; j < distinct && !seen; j++) seen = codes[j] === code;
        if (!seen) {
          codes[distinct] = code;
          insertSorted(nodes, distinct++, nodeNames[code]);
        }
      }
      if (distinct < size) nodes.length = distinct;
    } else {
      const names = new Set<string>();
      for (let k = 0; k < size; k++) {
        const row = eventMembers[from + k];
        members[k] = idList[row];
        names.add(nodeNames[nodeOf[row]]);
      }
      // Default sort orders strings by UTF-16 code units, like `<`.
      members.sort();
      nodes = [...names].sort();
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
