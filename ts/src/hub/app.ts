/**
 * The hub as a fastify plugin: routes with TypeBox schemas, one error handler, load shedding
 * (`@fastify/under-pressure`), metrics. `server.ts` builds an instance around it and listens;
 * tests register it on their own instances.
 */
import underPressure from '@fastify/under-pressure';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Static } from 'typebox';

import { fuse } from '../fusion/fuse.js';
import type { FusionConfig } from '../fusion/types.js';
import { HubError, isHubError, type HubErrorCode } from './errors.js';
import { HubMetrics } from './metrics.js';
import type { RoundService } from './round-service.js';
import { RoundEngine } from './rounds.js';
import {
  AnnounceBody,
  AnnounceReply,
  CloseReply,
  errorReplies,
  FuseBody,
  FusionResultSchema,
  HealthReply,
  ListQuery,
  MAX_BATCH_RECORDS,
  ObservationsBody,
  ObservationsReply,
  ResultQuery,
  RoundList,
  RoundParams,
  RoundSummarySchema,
} from './schemas.js';
import type { RoundStore } from './store/types.js';
import { ADMIN_NODE, TokenChecker } from './tokens.js';
import { hubValidatorCompiler } from './validator.js';

export type HubAppOptions = {
  /** The store this process's round engine runs on (or give `rounds`). */
  store?: RoundStore;
  /** Rounds kept by another process: a hub worker's link to the process owning the store. */
  rounds?: RoundService;
  /** The `/metrics` text when the hub spans processes (default: this app's registry). */
  scrape?: (local: HubMetrics) => Promise<string>;
  /** Whose a valid token is that this process has not seen (a hub worker asks the primary). */
  tokenOwner?: (token: string) => Promise<string | undefined>;
  /** The hub secret that node tokens are HMACs under. */
  secret: string;
  /** Default time from a round's first announce to its forced close (ms; default 30 s). */
  roundDeadlineMs?: number;
  fusion?: FusionConfig;
  /** Body size limit of batch routes (bytes; default 4 MiB). */
  bodyLimit?: number;
  /** How often the rejected requests are logged, summed by code (ms; default 60 s; 0: never). */
  rejectedSummaryMs?: number;
  /** Body size limit of the stateless `/v1/fuse` (bytes; default 64 MiB). */
  fuseBodyLimit?: number;
  /** Load shedding: 503 + Retry-After beyond these (event-loop delay ms, heap bytes). */
  pressure?: { maxEventLoopDelayMs?: number; maxHeapUsedBytes?: number; retryAfterS?: number; sampleIntervalMs?: number };
  /** How often to look for rounds past their deadline (ms; default 1000). */
  sweepMs?: number;
  /** Default clock; tests move it. */
  now?: () => number;
  /** Served at `/` when given (the dashboard). */
  dashboardHtml?: string;
};

declare module 'fastify' {
  interface FastifyInstance {
    rounds: RoundService;
    hubMetrics: HubMetrics;
  }
  interface FastifyRequest {
    /** The JSON body as received: stored as is, and digested to recognise retries. */
    rawJson?: string;
  }
}

/** Maps whatever a route or fastify threw onto the hub's codes. */
function toHubError(error: FastifyError): HubError {
  if (isHubError(error)) return error;
  if (error.validation) {
    const tooMany = error.validation.some((v) => v.keyword === 'maxItems' && v.instancePath === '/records');
    if (tooMany && error.validationContext === 'body') {
      return new HubError('ERR_BATCH_TOO_LARGE', `a batch carries at most ${MAX_BATCH_RECORDS} observations`);
    }
    const badId = error.validation.find((v) => v.keyword === 'pattern' && /^\/records\/\d+\/id$/.test(v.instancePath));
    if (badId && error.validationContext === 'body') {
      const at = badId.instancePath.split('/')[2];
      return new HubError('ERR_VALIDATION', `records[${at}].id must hold no control character (U+0000 to U+001F) and no half of a surrogate pair`);
    }
    return new HubError('ERR_VALIDATION', error.message);
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HubError('ERR_BODY_TOO_LARGE', error.message);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new HubError('ERR_UNSUPPORTED_MEDIA_TYPE', 'send application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new HubError('ERR_INVALID_JSON', error.message);
  }
  if (error instanceof SyntaxError || error.statusCode === 400) {
    return new HubError(error instanceof SyntaxError ? 'ERR_INVALID_JSON' : 'ERR_BAD_REQUEST', error.message);
  }
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    const hub = new HubError('ERR_BAD_REQUEST', error.message);
    (hub as { statusCode: number }).statusCode = error.statusCode;
    return hub;
  }
  return new HubError('ERR_INTERNAL', 'internal error');
}

const hubPlugin: FastifyPluginAsyncTypebox<HubAppOptions> = async (app, options) => {
  const store = options.store;
  const metrics = new HubMetrics({ openRounds: store ? () => store.openRounds() : undefined });
  const tokens = new TokenChecker(options.secret, options.tokenOwner);
  let rounds: RoundService;
  if (options.rounds) rounds = options.rounds;
  else if (store) {
    rounds = new RoundEngine({
      store,
      metrics,
      deadlineMs: options.roundDeadlineMs,
      fusion: options.fusion,
      sweepMs: options.sweepMs,
      now: options.now,
      onError: (error, context) => app.log.error({ err: error }, `hub: ${context}`),
      onRound: (line) => app.log.info(`hub: ${line}`),
    });
  } else throw new TypeError('hubApp needs a store or rounds');
  const started = Date.now();
  app.decorate('rounds', rounds);
  app.decorate('hubMetrics', metrics);
  app.setValidatorCompiler(hubValidatorCompiler);
  // JSON bodies are parsed by fastify's own parser (prototype-poisoning checks included), and
  // the text is kept: a batch is stored and digested as received, never re-serialised.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  // JSON only: text/plain and anything else get 415.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string;
    request.rawJson = text;
    // A text holding neither key a prototype can be poisoned through, nor an escape that could
    // spell one, needs no checks after JSON.parse; anything else (and any text JSON.parse
    // refuses, for fastify's own error) goes through fastify's parser.
    if (!text.includes('__proto__') && !text.includes('constructor') && !text.includes('\\u')) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parseJson(request, text, done);
        return;
      }
      done(null, parsed);
      return;
    }
    parseJson(request, text, done);
  });

  // Rejected requests, summed by code and logged once a period (not once a request: a
  // misconfigured fleet would flood the log).
  const rejectedSince = new Map<string, number>();
  const summaryMs = options.rejectedSummaryMs ?? 60_000;
  const summarise = () => {
    if (rejectedSince.size === 0) return;
    const counts = [...rejectedSince].sort((a, b) => b[1] - a[1]).map(([code, n]) => `${code} ×${n}`);
    rejectedSince.clear();
    app.log.warn(`hub: rejected in the last ${summaryMs >= 1000 ? `${Math.round(summaryMs / 1000)} s` : `${summaryMs} ms`}: ${counts.join(', ')}`);
  };
  const summaries = summaryMs > 0 ? setInterval(summarise, summaryMs).unref() : undefined;
  app.addHook('onClose', async () => {
    if (summaries) clearInterval(summaries);
  });

  const reject = (reply: FastifyReply, code: HubErrorCode | string, status: number, message: string) => {
    metrics.rejected.inc({ code });
    rejectedSince.set(code, (rejectedSince.get(code) ?? 0) + 1);
    return reply.code(status).type('application/json').send({ error: { code, message } });
  };

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const hub = toHubError(error);
    if (hub.code === 'ERR_INTERNAL') request.log.error({ err: error, reqId: request.id }, 'unhandled error');
    if (hub.code === 'ERR_OVERLOADED') reply.header('Retry-After', String(options.pressure?.retryAfterS ?? 1));
    return reject(reply, hub.code, hub.statusCode, hub.message);
  });
  app.setNotFoundHandler((request, reply) => reject(reply, 'ERR_ROUTE_NOT_FOUND', 404, `no route ${request.method} ${request.url.split('?')[0]}`));

  const pressure = options.pressure ?? {};
  await app.register(underPressure, {
    maxEventLoopDelay: pressure.maxEventLoopDelayMs ?? 1000,
    maxHeapUsedBytes: pressure.maxHeapUsedBytes ?? 0,
    retryAfter: pressure.retryAfterS ?? 1,
    sampleInterval: pressure.sampleIntervalMs ?? 1000,
    pressureHandler: (_request, reply, type, value) => {
      reply.header('Retry-After', String(pressure.retryAfterS ?? 1));
      void reject(reply, 'ERR_OVERLOADED', 503, `the hub is overloaded (${type}${value !== undefined ? ` ${Math.round(Number(value))}` : ''}); retry later`);
    },
  });

  app.addHook('onReady', () => rounds.start());
  app.addHook('onClose', async () => {
    await rounds.stop();
  });

  const auth = (request: FastifyRequest) => request.headers.authorization;
  // Writes need a well-formed bearer token before their body is read or validated: an
  // unauthenticated flood costs no parsing, and learns nothing about the schemas.
  app.addHook('onRequest', (request, _reply, done) => {
    if (request.method === 'POST') {
      try {
        tokens.bearer(request.headers.authorization);
      } catch (e) {
        done(e as HubError);
        return;
      }
    }
    done();
  });
  const batchLimit = options.bodyLimit ?? 4 * 1024 * 1024;

  app.post(
    '/v1/rounds/:round/announce',
    { bodyLimit: batchLimit, schema: { params: RoundParams, body: AnnounceBody, response: { 200: AnnounceReply, ...errorReplies } } },
    async (request) => {
      const { node } = request.body;
      if (node === ADMIN_NODE) throw new HubError('ERR_RESERVED_NODE', `"${ADMIN_NODE}" is reserved for the operator`);
      await tokens.requireNode(auth(request), node);
      const { deadline } = await rounds.announce(request.params.round, node);
      return { round: request.params.round, node, deadline, state: 'open' };
    },
  );

  app.post(
    '/v1/rounds/:round/observations',
    { bodyLimit: batchLimit, schema: { params: RoundParams, body: ObservationsBody, response: { 202: ObservationsReply, ...errorReplies } } },
    async (request, reply) => {
      const body = request.body;
      if (body.node === ADMIN_NODE) throw new HubError('ERR_RESERVED_NODE', `"${ADMIN_NODE}" is reserved for the operator`);
      await tokens.requireNode(auth(request), body.node);
      body.records.forEach((record, i) => {
        if (record.node !== body.node) {
          throw new HubError('ERR_FORBIDDEN_NODE', `records[${i}].node is "${record.node}" but node "${body.node}" may only report its own observations`);
        }
      });
      const started = performance.now();
      const { node, seq } = body;
      const count = body.records.length;
      const pending = rounds.report(request.params.round, body, request.rawJson);
      // The store has the batch's text now. Waiting for its fsync (milliseconds, longer under
      // load) with the parsed body and the text still reachable got them copied by young
      // collections and promoted; nothing needs them any more.
      request.rawJson = undefined;
      (request as { body: unknown }).body = undefined;
      const outcome = await pending;
      metrics.ingestSeconds.observe((performance.now() - started) / 1000);
      reply.code(202);
      return { round: request.params.round, node, seq, accepted: outcome.duplicate ? 0 : count, duplicate: outcome.duplicate, state: outcome.state };
    },
  );

  app.post('/v1/rounds/:round/close', { schema: { params: RoundParams, response: { 200: CloseReply, ...errorReplies } } }, async (request) => {
    await tokens.requireAdmin(auth(request));
    const { closedNow, state } = await rounds.close(request.params.round);
    return { round: request.params.round, closedNow, state };
  });

  app.get(
    '/v1/rounds/:round/result',
    { schema: { params: RoundParams, querystring: ResultQuery, response: { 200: FusionResultSchema, ...errorReplies } } },
    // Sent as the text serialised once per round: each of a round's nodes may fetch it.
    async (request, reply) => {
      const text = await rounds.resultJson(request.params.round, request.query.waitMs ?? 0);
      // The text is the schema's shape (JSON.stringify of a FusionResult); fastify sends a
      // string as is, so the typed reply is told so.
      return reply.type('application/json; charset=utf-8').send(text as unknown as Static<typeof FusionResultSchema>);
    },
  );

  app.get('/v1/rounds/:round', { schema: { params: RoundParams, response: { 200: RoundSummarySchema, ...errorReplies } } }, async (request) => {
    const summary = await rounds.summary(request.params.round);
    if (!summary) throw new HubError('ERR_ROUND_NOT_FOUND', `round "${request.params.round}" does not exist`);
    return summary;
  });

  app.get(
    '/v1/rounds',
    {
      schema: {
        querystring: ListQuery,
        response: { 200: RoundList, ...errorReplies },
      },
    },
    async (request) => ({ rounds: await rounds.list(request.query.limit ?? 100) }),
  );

  app.post(
    '/v1/fuse',
    { bodyLimit: options.fuseBodyLimit ?? 64 * 1024 * 1024, schema: { body: FuseBody, response: { 200: FusionResultSchema, ...errorReplies } } },
    async (request) => {
      await tokens.requireAdmin(auth(request));
      const seen = new Set<string>();
      request.body.records.forEach((record, row) => {
        if (seen.has(record.id)) throw new HubError('ERR_DUPLICATE_RECORD_ID', `records[${row}].id "${record.id}" appears twice`);
        seen.add(record.id);
      });
      return fuse(request.body.records, options.fusion);
    },
  );

  app.get('/healthz', { schema: { response: { 200: HealthReply } } }, async () => ({
    status: 'ok',
    store: rounds.storeKind,
    openRounds: await rounds.openRounds(),
    uptimeS: (Date.now() - started) / 1000,
  }));

  app.get('/metrics', async (_request, reply) => {
    reply.type(metrics.registry.contentType);
    return options.scrape ? options.scrape(metrics) : metrics.registry.metrics();
  });

  if (options.dashboardHtml !== undefined) {
    const html = options.dashboardHtml;
    app.get('/', async (_request, reply) => reply.type('text/html; charset=utf-8').send(html));
  }
};

/** The hub's routes, hooks and handlers; not encapsulated, so its error handler is the app's. */
export const hubApp = fp(hubPlugin, { name: 'fleetscale-hub', fastify: '5.x' });
