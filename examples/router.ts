import { AdaptiveRouter } from 'fleetscale/router';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// Two nodes of different speeds; a node is a handler, or { id, url } for an HTTP endpoint that
// takes a JSON array of items and answers one result per item.
const router = new AdaptiveRouter({
  nodes: [
    {
      id: 'fast',
      perItemMs: 1,
      overheadMs: 5,
      handler: async (items) => {
        await sleep(5 + items.length);
        return items.map((x) => `fast:${String(x)}`);
      },
    },
    {
      id: 'slow',
      perItemMs: 10,
      overheadMs: 5,
      handler: async (items) => {
        await sleep(5 + 10 * items.length);
        return items.map((x) => `slow:${String(x)}`);
      },
    },
  ],
});

const results = await router.run(Array.from({ length: 60 }, (_, i) => i)); // results in input order
const onFast = (results as string[]).filter((r) => r.startsWith('fast:')).length;
console.log(`60 items: ${onFast} on fast, ${60 - onFast} on slow`);
console.log(
  router
    .report([10, 100])
    .map((plan) => `${plan.items} items: ${plan.reason}`)
    .join('\n'),
);
