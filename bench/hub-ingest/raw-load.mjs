// The hub's sustained cases as load (what autocannon does, shaped for the round protocol):
// every request is built before the clock starts, each node owns one keep-alive socket, and a
// reply is read only as far as its status line and Content-Length. Two engines send it:
// - 'native' (crates/http-load through runHttpLoad): one thread and one epoll outside the
//   event loop;
// - 'js': the same in this process's event loop.
// Both take CPU from the cores the hub runs on (each result says how much:
// loadgenCpuUsPerBatch), so the cheaper one leaves the hub more. The fleet simulator (undici,
// JSON both ways, retries) costs about as much per request as the hub itself; its figures are
// reported alongside.
//
// Closed loop: a node sends its next batch as soon as the previous one is acknowledged.
// Paced (open loop): node i sends batch b at start + (i / nodes + b) * intervalMs, so the
// fleet's offered rate is nodes / intervalMs, evenly spread; latency runs from the scheduled
// send time, so a hub (or client) that falls behind pays for it in the percentiles rather
// than hiding it (no coordinated omission).
import net from 'node:net';

import { runHttpLoad } from '../../dist/src/lab/load/http-load.js';
import { generateFleet } from '../../dist/src/fusion/generate.js';
import { nodeToken } from '../../dist/src/hub/tokens.js';
import { percentile } from '../lib.mjs';

const CRLF2 = Buffer.from('\r\n\r\n');

function request(host, path, token, body) {
  const bytes = Buffer.from(body);
  const head = `POST ${path} HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nAuthorization: Bearer ${token}\r\nContent-Length: ${bytes.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head), bytes]);
}

/** Reads replies off one socket: calls `onReply(status)` per complete response. */
function replyReader(onReply) {
  let pending = null;
  return (chunk) => {
    let buf = pending ? Buffer.concat([pending, chunk]) : chunk;
    for (;;) {
      const end = buf.indexOf(CRLF2);
      if (end < 0) break;
      const head = buf.toString('latin1', 0, end);
      const status = Number(head.slice(9, 12));
      const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      if (!m) throw new Error(`reply without Content-Length: ${head}`);
      const total = end + 4 + Number(m[1]);
      if (buf.length < total) break;
      onReply(status, buf.toString('utf8', end + 4, total));
      buf = buf.subarray(total);
    }
    pending = buf.length ? buf : null;
  };
}

/**
 * A generated fleet's batches as the hub takes them: per node (in fleet order), the JSON bodies
 * of its `batches` batches of `batchSize` observations, the last one final.
 */
export function fleetBatchBodies({ nodes, batches, batchSize = 5, seed = 7 }) {
  const fleet = generateFleet({ nodes, obsPerNode: batches * batchSize, seed });
  const byNode = new Map();
  for (const r of fleet.records) {
    let list = byNode.get(r.node);
    if (!list) byNode.set(r.node, (list = []));
    list.push(r);
  }
  return [...byNode].map(([node, records]) => ({
    node,
    bodies: Array.from({ length: batches }, (_, b) => JSON.stringify({ node, seq: b + 1, final: b === batches - 1, records: records.slice(b * batchSize, (b + 1) * batchSize) })),
  }));
}

/**
 * Runs `nodes` nodes through one round: announce (untimed), then `batches` batches of
 * `batchSize` observations each (the last one final), closed loop or paced.
 */
export async function rawLoad({ hub, secret, round, nodes, batches, batchSize = 5, intervalMs = 0, seed = 7, engine = 'js' }) {
  const url = new URL(hub);
  const host = url.host;
  const fleet = fleetBatchBodies({ nodes, batches, batchSize, seed });
  const tokens = fleet.map(({ node }) => nodeToken(secret, node));
  const announces = fleet.map(({ node }, i) => request(host, `/v1/rounds/${round}/announce`, tokens[i], JSON.stringify({ node })));
  const posts = fleet.map(({ bodies }, i) => bodies.map((body) => request(host, `/v1/rounds/${round}/observations`, tokens[i], body)));

  if (engine === 'native') return nativeLoad({ hub, nodes, batches, intervalMs, announces, posts });
  if (engine !== 'js') throw new Error(`rawLoad: engine must be "js" or "native", got ${engine}`);

  const sockets = await Promise.all(
    fleet.map(
      () =>
        new Promise((resolve, reject) => {
          const s = net.connect({ host: url.hostname, port: Number(url.port), noDelay: true }, () => resolve(s));
          s.once('error', reject);
        }),
    ),
  );
  const failures = {};
  const fail = (status, body) => {
    const code = /"code":"([A-Z_0-9]+)"/.exec(body)?.[1] ?? `HTTP_${status}`;
    failures[code] = (failures[code] ?? 0) + 1;
  };

  // Announce every node (untimed).
  await Promise.all(
    sockets.map(
      (s, i) =>
        new Promise((resolve, reject) => {
          s.on('error', reject);
          s.on(
            'data',
            replyReader((status, body) => {
              if (status !== 200) fail(status, body);
              s.removeAllListeners('data');
              resolve();
            }),
          );
          s.write(announces[i]);
        }),
    ),
  );

  const latencies = new Float64Array(nodes * batches);
  const cpuBefore = process.cpuUsage();
  let acked = 0;
  let replies = 0;
  const start = performance.now() + 20;
  let lastAck = start;
  await Promise.all(
    sockets.map(
      (s, i) =>
        new Promise((resolve) => {
          let b = 0;
          // Latency runs from the scheduled time, or from the write when it went out early
          // (a timer is only ms-precise, so a batch due within 1 ms is written at once).
          let from = 0;
          const send = () => {
            const due = intervalMs ? start + (i / nodes + b) * intervalMs : performance.now();
            const write = () => {
              from = Math.min(due, performance.now());
              s.write(posts[i][b]);
            };
            if (due - performance.now() > 1) setTimeout(write, due - performance.now());
            else write();
          };
          s.on(
            'data',
            replyReader((status, body) => {
              const now = performance.now();
              latencies[replies++] = now - from;
              if (status === 202) {
                acked++;
                lastAck = Math.max(lastAck, now);
              } else fail(status, body);
              if (++b < batches) send();
              else resolve();
            }),
          );
          if (intervalMs) send();
          else setTimeout(send, start - performance.now());
        }),
    ),
  );
  const cpu = process.cpuUsage(cpuBefore);
  for (const s of sockets) s.destroy();
  return summary({ nodes, intervalMs, acked, replies, elapsedMs: lastAck - start, sorted: latencies.subarray(0, replies).sort(), failures, cpuUs: cpu.user + cpu.system });
}

/** The result of either engine; `loadgenCpuUsPerBatch` is the generator's own CPU in the timed phase. */
function summary({ nodes, intervalMs, acked, replies, elapsedMs, sorted, failures, cpuUs, timeline }) {
  return {
    nodes,
    batches: acked,
    offeredPerS: intervalMs ? (nodes / intervalMs) * 1000 : null,
    batchesPerS: elapsedMs > 0 ? (acked / elapsedMs) * 1000 : 0,
    latencyMs: { p50: percentile(sorted, 0.5), p90: percentile(sorted, 0.9), p99: percentile(sorted, 0.99), max: sorted.at(-1) ?? 0 },
    loadgenCpuUsPerBatch: acked && cpuUs !== null ? cpuUs / acked : NaN,
    errors: replies - acked,
    errorCodes: failures,
    // Native engine only: per 100 ms of send time, replies, worst latency and the generator's lateness.
    timeline,
  };
}

/** The same load through the native generator (crates/http-load), on a thread of its own. */
async function nativeLoad({ hub, intervalMs, announces, posts }) {
  const report = await runHttpLoad({ url: hub, connections: announces.map((warmUp, i) => ({ warmUp, timed: posts[i] })), intervalMs });
  // Warm-up failures count like the JavaScript engine's announce failures: in errorCodes only.
  return summary({
    nodes,
    intervalMs,
    acked: report.acked,
    replies: report.replies,
    elapsedMs: report.elapsedMs,
    sorted: report.latenciesMs,
    failures: report.failures,
    cpuUs: report.cpuUs,
    timeline: report.timeline,
  });
}
