// The floor the hub is measured against: a server that answers the round protocol's two POSTs
// with the hub's reply shapes, parsing each JSON body and nothing more (no auth, validation,
// digest or storage). `node floor-server.mjs http` is bare node:http; `http-cluster N` is the
// same in N cluster processes on one port (the floor of `fleetscale hub --workers N`);
// `fastify` is a bare fastify route. Prints `listening on <url>` like the hub.
import cluster from 'node:cluster';
import http from 'node:http';

import Fastify from 'fastify';

const kind = process.argv[2] ?? 'http';
const reply = (round, body) =>
  body.records ? { round, node: body.node, seq: body.seq, accepted: body.records.length, duplicate: false, state: 'open' } : { round, node: body.node, deadline: 0, state: 'open' };

function bareHttp() {
  return http.createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => (text += chunk));
    req.on('end', () => {
      const body = JSON.parse(text);
      const out = JSON.stringify(reply(req.url.split('/')[3], body));
      res.writeHead(body.records ? 202 : 200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
      res.end(out);
    });
  });
}

if (kind === 'http') {
  const server = bareHttp();
  server.keepAliveTimeout = 75_000;
  server.listen(0, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${server.address().port}`));
} else if (kind === 'http-cluster' && cluster.isPrimary) {
  const processes = Number(process.argv[3] ?? 2);
  let listening = 0;
  for (let i = 0; i < processes; i++) {
    cluster.fork().on('listening', (address) => {
      if (++listening === processes) console.log(`listening on http://127.0.0.1:${address.port}`);
    });
  }
} else if (kind === 'http-cluster') {
  const server = bareHttp();
  server.keepAliveTimeout = 75_000;
  server.listen(0, '127.0.0.1');
} else if (kind === 'fastify') {
  const app = Fastify({ logger: false, keepAliveTimeout: 75_000 });
  app.post('/v1/rounds/:round/announce', async (request) => reply(request.params.round, request.body));
  app.post('/v1/rounds/:round/observations', async (request, res) => {
    res.code(202);
    return reply(request.params.round, request.body);
  });
  console.log(`listening on ${await app.listen({ port: 0, host: '127.0.0.1' })}`);
} else {
  throw new Error(`floor-server: unknown kind "${kind}" (http, http-cluster or fastify)`);
}
