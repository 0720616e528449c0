"""The page `concoord dashboard` serves: one HTML document with its style and script inline
(no build step, no CDN, nothing fetched but /api/status). It polls /api/status every second
and redraws: the leader and ballot, every node, the throughput and status latency charts
(inline SVG) and the events the server derived from successive polls."""

PAGE = r"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>ConCoord dashboard</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
  h1 { font-size: 1.3em; margin: 0 0 .3em; }
  .bar { display: flex; gap: 2em; flex-wrap: wrap; margin-bottom: 1em; }
  .bar div b { font-family: monospace; }
  table { border-collapse: collapse; margin-bottom: 1.2em; }
  th, td { padding: .25em .8em; border-bottom: 1px solid #ddd; text-align: left; }
  td.num { text-align: right; font-family: monospace; }
  td.addr { font-family: monospace; }
  tr.down td { color: #b00; }
  tr.leader td { font-weight: bold; }
  .alive-yes { color: #080; } .alive-no { color: #b00; }
  #error { color: #b00; }
  #object { font-family: monospace; background: #f4f4f4; padding: .3em .6em; }
  #events { font-family: monospace; font-size: 13px; max-height: 14em; overflow-y: auto; }
  svg { background: #fafafa; border: 1px solid #ddd; }
</style>
</head>
<body>
<h1>ConCoord instance</h1>
<div id="error"></div>
<div class="bar">
  <div>leader <b id="leader">-</b></div>
  <div>ballot <b id="ballot">-</b></div>
  <div>commands/s <b id="rate">-</b></div>
  <div>updated <b id="updated">-</b></div>
</div>
<div>object <span id="object">-</span></div>
<h2>Nodes</h2>
<table id="nodes">
  <thead><tr><th>address</th><th>role</th><th>alive</th><th>state</th>
  <th>applied slot</th><th>lag</th></tr></thead>
  <tbody></tbody>
</table>
<h2>Throughput (commands/s at the leader, up to the last 10 minutes)</h2>
<svg id="chart" width="640" height="160" viewBox="0 0 640 160"></svg>
<h2>Latency (ms for one status request to the leader)</h2>
<svg id="latency" width="640" height="160" viewBox="0 0 640 160"></svg>
<h2>Recent elections and view changes</h2>
<div id="events"></div>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
const time = (t) => new Date(t * 1000).toLocaleTimeString();

function cell(text, cls) {
  const td = document.createElement("td");
  td.textContent = text === null || text === undefined ? "-" : String(text);
  if (cls) td.className = cls;
  return td;
}

function drawNodes(view) {
  const body = $("nodes").tBodies[0];
  body.replaceChildren();
  for (const node of view.nodes) {
    const tr = document.createElement("tr");
    tr.dataset.address = node.address;
    tr.dataset.role = node.role;
    if (node.alive === false) tr.className = "down";
    if (node.address === view.leader) tr.classList.add("leader");
    const alive = {true: "yes", false: "NO", null: "-"}[node.alive];
    tr.append(cell(node.address, "addr"), cell(node.role),
              cell(alive, node.alive === false ? "alive-no" : "alive-yes"),
              cell(node.state), cell(node.slot_out ? node.slot_out - 1 : null, "num"),
              cell(node.lag, "num"));
    body.append(tr);
  }
}

function drawChart(svg, points, now, floor, unit) {
  // The time axis grows with the history, from one minute up to the ten the server keeps.
  const width = 640, height = 160;
  const span = Math.min(600, Math.max(60, points.length ? now - points[0][0] : 0));
  const max = Math.max(floor, ...points.map((p) => p[1]));
  const x = (t) => width - (now - t) / span * width;
  const y = (v) => height - 15 - v / max * (height - 30);
  const line = points.map((p) => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(" ");
  svg.innerHTML =
    `<polyline fill="none" stroke="#1565c0" stroke-width="2" points="${line}"/>` +
    `<text x="4" y="12" font-size="11">${+max.toPrecision(3)} ${unit}</text>` +
    `<text x="4" y="${height - 3}" font-size="11">-${Math.round(span)} s</text>` +
    `<text x="${width - 30}" y="${height - 3}" font-size="11">now</text>`;
}

function drawEvents(events) {
  const box = $("events");
  box.replaceChildren();
  for (const event of events.slice().reverse()) {
    const line = document.createElement("div");
    line.className = "event " + event.kind;
    line.textContent = `${time(event.at)}  ${event.kind.padEnd(8)} ${event.text}`;
    box.append(line);
  }
}

async function refresh() {
  try {
    const state = await (await fetch("/api/status", {cache: "no-store"})).json();
    $("error").textContent = state.error ? "last poll failed: " + state.error : "";
    if (state.polled_at) $("updated").textContent = time(state.polled_at);
    const view = state.view;
    if (view) {
      $("leader").textContent = view.leader || "none";
      $("ballot").textContent = view.ballot ? "round " + view.ballot[0] : "-";
      $("rate").textContent = view.commands_per_second ?? "-";
      $("object").textContent = view.object;
      drawNodes(view);
    }
    const now = state.polled_at || Date.now() / 1000;
    drawChart($("chart"), state.throughput, now, 10, "/s");
    drawChart($("latency"), state.latency, now, 1, "ms");
    drawEvents(state.events);
  } catch (error) {
    $("error").textContent = "dashboard unreachable: " + error;
  }
}

refresh();
setInterval(refresh, 1000);
</script>
</body>
</html>
"""
