// Simulated worker nodes as real HTTP servers on 127.0.0.1, one process for all of them.
//   node nodes.mjs '[{"perItemMs":10,"overheadMs":5}, ...]'   → prints {"ports":[...]} and serves until killed
// Each node takes a JSON array of items and answers one result per item. A request waits half
// its overhead (latency there), then the node's single processing lane (requests are processed
// one at a time, in arrival order) for items × perItemMs, then the other half (latency back).
import { createServer } from 'node:http';

const specs = JSON.parse(process.argv[2]);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const ports = [];
for (const spec of specs) {
  let lane = Promise.resolve();
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const items = JSON.parse(Buffer.concat(chunks).toString());
      await sleep(spec.overheadMs / 2);
      const done = lane.then(() => sleep(items.length * spec.perItemMs));
      lane = done;
      await done;
      await sleep(spec.overheadMs / 2);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(items.map((item) => ({ item }))));
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  ports.push(server.address().port);
}
process.stdout.write(`${JSON.stringify({ ports })}\n`);
