/**
 * The dashboard served at `/`: rounds, ingest rate, fusion time, and the last fused round's
 * events on a map-like scatter (position; colour = class; size = nodes per event). One static
 * page that polls the hub's JSON routes; no build step, no external assets.
 */
const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>fleetscale hub</title>
<style>
  :root { font: 14px/1.4 system-ui, sans-serif; color: #1d2329; background: #f5f6f8; }
  body { margin: 0; padding: 16px 24px; }
  h1 { font-size: 18px; margin: 0 0 12px; }
  .tiles { display: flex; gap: 12px; flex-wrap: wrap; margin-bottom: 16px; }
  .tile { background: #fff; border-radius: 8px; padding: 10px 14px; min-width: 150px; box-shadow: 0 1px 2px #0001; }
  .tile b { display: block; font-size: 22px; }
  .grid { display: grid; grid-template-columns: minmax(320px, 1fr) minmax(320px, 1.2fr); gap: 16px; }
  section { background: #fff; border-radius: 8px; padding: 12px; box-shadow: 0 1px 2px #0001; }
  table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
  th, td { text-align: right; padding: 3px 6px; border-bottom: 1px solid #eee; }
  th:first-child, td:first-child, td.state { text-align: left; }
  .legend span { margin-right: 10px; white-space: nowrap; }
  .legend i { display: inline-block; width: 10px; height: 10px; border-radius: 5px; margin-right: 4px; }
  svg { width: 100%; height: auto; background: #fbfcfd; border: 1px solid #eee; }
  #error { color: #b00020; }
</style>
</head>
<body>
<h1>fleetscale hub</h1>
<div class="tiles">
  <div class="tile">rounds<b id="rounds-count">–</b></div>
  <div class="tile">open rounds<b id="open-count">–</b></div>
  <div class="tile">ingest rate<b id="ingest-rate">–</b></div>
  <div class="tile">last fusion<b id="fusion-ms">–</b></div>
  <div class="tile">last round events<b id="event-count">–</b></div>
</div>
<p id="error"></p>
<div class="grid">
  <section>
    <table id="rounds">
      <thead><tr><th>round</th><th>state</th><th>nodes</th><th>final</th><th>observations</th><th>events</th><th>fusion ms</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>
  <section>
    <div id="scatter-title">last fused round</div>
    <svg id="scatter" viewBox="0 0 600 400" role="img" aria-label="fused events by position"></svg>
    <div class="legend" id="legend"></div>
  </section>
</div>
<script type="module">
const palette = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
const ns = 'http://www.w3.org/2000/svg';
const $ = (id) => document.getElementById(id);
let lastObservations = null;
let lastAt = 0;
let drawnRound = null;

async function json(path) {
  const res = await fetch(path, { headers: { accept: 'application/json' } });
  if (!res.ok) throw new Error(path + ': ' + res.status);
  return res.json();
}

function renderRounds(rounds) {
  const body = $('rounds').tBodies[0];
  body.replaceChildren(...rounds.slice(0, 25).map((r) => {
    const tr = document.createElement('tr');
    tr.dataset.round = r.round;
    for (const [value, cls] of [[r.round], [r.state, 'state'], [r.nodes], [r.finalNodes], [r.observations], [r.events ?? ''], [r.fusionMs == null ? '' : r.fusionMs.toFixed(1)]]) {
      const td = document.createElement('td');
      if (cls) td.className = cls;
      td.textContent = String(value);
      tr.append(td);
    }
    return tr;
  }));
  $('rounds-count').textContent = String(rounds.length);
  $('open-count').textContent = String(rounds.filter((r) => r.state === 'open').length);
  const total = rounds.reduce((sum, r) => sum + r.observations, 0);
  const now = performance.now();
  if (lastObservations !== null && now > lastAt) {
    $('ingest-rate').textContent = Math.max(0, Math.round((total - lastObservations) / ((now - lastAt) / 1000))) + ' obs/s';
  }
  lastObservations = total;
  lastAt = now;
}

function renderScatter(round, result) {
  const svg = $('scatter');
  const events = result.events;
  svg.dataset.round = round.round;
  svg.dataset.events = String(events.length);
  $('scatter-title').textContent = 'round ' + round.round + ': ' + events.length + ' events from ' + round.observations + ' observations';
  $('event-count').textContent = String(events.length);
  $('fusion-ms').textContent = round.fusionMs == null ? '–' : round.fusionMs.toFixed(1) + ' ms';
  if (events.length === 0) { svg.replaceChildren(); return; }
  let [minLat, maxLat, minLon, maxLon] = [Infinity, -Infinity, Infinity, -Infinity];
  for (const e of events) {
    minLat = Math.min(minLat, e.lat); maxLat = Math.max(maxLat, e.lat);
    minLon = Math.min(minLon, e.lon); maxLon = Math.max(maxLon, e.lon);
  }
  const pad = 12, w = 600 - 2 * pad, h = 400 - 2 * pad;
  const spanLon = Math.max(maxLon - minLon, 1e-9), spanLat = Math.max(maxLat - minLat, 1e-9);
  const classes = [...new Set(events.map((e) => e.cls))].sort();
  const colour = new Map(classes.map((c, i) => [c, palette[i % palette.length]]));
  const dots = events.map((e) => {
    const c = document.createElementNS(ns, 'circle');
    c.setAttribute('cx', (pad + ((e.lon - minLon) / spanLon) * w).toFixed(1));
    c.setAttribute('cy', (pad + (1 - (e.lat - minLat) / spanLat) * h).toFixed(1));
    c.setAttribute('r', String(1.5 + Math.sqrt(e.nodes.length)));
    c.setAttribute('fill', colour.get(e.cls));
    c.setAttribute('fill-opacity', '0.7');
    c.setAttribute('class', 'event');
    const title = document.createElementNS(ns, 'title');
    title.textContent = e.cls + ' seen by ' + e.nodes.length + ' node(s) at ' + e.lat.toFixed(5) + ', ' + e.lon.toFixed(5);
    c.append(title);
    return c;
  });
  svg.replaceChildren(...dots);
  $('legend').replaceChildren(...classes.map((c) => {
    const span = document.createElement('span');
    const dot = document.createElement('i');
    dot.style.background = colour.get(c);
    span.append(dot, c);
    return span;
  }));
}

async function tick() {
  try {
    const { rounds } = await json('/v1/rounds?limit=200');
    renderRounds(rounds);
    const last = rounds.find((r) => r.state === 'fused');
    if (last && (drawnRound !== last.round)) {
      renderScatter(last, await json('/v1/rounds/' + encodeURIComponent(last.round) + '/result'));
      drawnRound = last.round;
    }
    $('error').textContent = '';
  } catch (e) {
    $('error').textContent = 'hub unreachable: ' + e.message;
  }
}
tick();
setInterval(tick, 1000);
</script>
</body>
</html>
`;

/** The dashboard page. */
export function dashboardHtml(): string {
  return page;
}
