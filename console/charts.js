// Tiny inline-SVG charts for the operations console: no library, no external resources.
// Each chart is an <svg role="img"> with a text alternative, and a visually hidden table of the
// same numbers follows it for screen readers.

const NS = 'http://www.w3.org/2000/svg';

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.append(c);
  return el;
}

function niceMax(v) {
  if (v <= 4) return 4;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/**
 * Stacked bar chart.
 * @param {{ title: string, labels: string[], series: { name: string, values: number[], cls: string }[], tickLabel?: (i: number) => string }} spec
 * @returns {HTMLElement} a <figure> with the SVG, a legend and a hidden data table
 */
export function stackedBarChart(spec) {
  const W = 640;
  const H = 220;
  const pad = { l: 40, r: 8, t: 10, b: 28 };
  const n = spec.labels.length;
  const totals = spec.labels.map((_, i) => spec.series.reduce((a, s) => a + (s.values[i] ?? 0), 0));
  const max = niceMax(Math.max(0, ...totals));
  const bw = (W - pad.l - pad.r) / Math.max(1, n);
  const y = (v) => pad.t + (H - pad.t - pad.b) * (1 - v / max);
  const sum = totals.reduce((a, b) => a + b, 0);

  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': `${spec.title}: ${sum} in total`, class: 'chart', preserveAspectRatio: 'none' });
  root.append(svg('title', {}, `${spec.title}: ${sum} in total`));
  // Grid lines and y labels at 0, half and max.
  for (const v of [0, max / 2, max]) {
    root.append(svg('line', { x1: pad.l, x2: W - pad.r, y1: y(v), y2: y(v), class: 'grid' }));
    root.append(svg('text', { x: pad.l - 4, y: y(v) + 4, class: 'axis', 'text-anchor': 'end' }, String(Math.round(v))));
  }
  spec.labels.forEach((_, i) => {
    let acc = 0;
    for (const s of spec.series) {
      const v = s.values[i] ?? 0;
      if (v > 0) {
        const rect = svg('rect', { x: pad.l + i * bw + bw * 0.1, width: Math.max(1, bw * 0.8), y: y(acc + v), height: Math.max(0.5, y(acc) - y(acc + v)), class: `bar ${s.cls}` });
        rect.append(svg('title', {}, `${spec.labels[i]}: ${s.name} ${v}`));
        root.append(rect);
      }
      acc += v;
    }
  });
  // x labels: first, middle, last.
  for (const i of [...new Set([0, Math.floor((n - 1) / 2), n - 1])]) {
    if (i < 0) continue;
    const anchor = i === 0 ? 'start' : i === n - 1 ? 'end' : 'middle';
    const x = i === 0 ? pad.l : i === n - 1 ? W - pad.r : pad.l + (i + 0.5) * bw;
    root.append(svg('text', { x, y: H - 8, class: 'axis', 'text-anchor': anchor }, spec.tickLabel ? spec.tickLabel(i) : spec.labels[i]));
  }

  const fig = document.createElement('figure');
  fig.className = 'chart-figure';
  const cap = document.createElement('figcaption');
  cap.textContent = spec.title;
  const legend = document.createElement('ul');
  legend.className = 'legend';
  for (const s of spec.series) {
    const li = document.createElement('li');
    const sw = document.createElement('span');
    sw.className = `swatch ${s.cls}`;
    sw.setAttribute('aria-hidden', 'true');
    li.append(sw, `${s.name}: ${s.values.reduce((a, b) => a + b, 0)}`);
    legend.append(li);
  }
  fig.append(cap, root, legend, dataTable(spec));
  return fig;
}

function dataTable(spec) {
  const t = document.createElement('table');
  t.className = 'visually-hidden';
  const cap = document.createElement('caption');
  cap.textContent = `${spec.title} (data)`;
  const head = document.createElement('tr');
  for (const h of ['Time', ...spec.series.map((s) => s.name)]) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = h;
    head.append(th);
  }
  t.append(cap, head);
  spec.labels.forEach((label, i) => {
    if (spec.series.every((s) => !(s.values[i] > 0))) return;
    const tr = document.createElement('tr');
    const th = document.createElement('th');
    th.scope = 'row';
    th.textContent = label;
    tr.append(th);
    for (const s of spec.series) {
      const td = document.createElement('td');
      td.textContent = String(s.values[i] ?? 0);
      tr.append(td);
    }
    t.append(tr);
  });
  return t;
}

/**
 * A small line chart (e.g. a campaign's send rate over time).
 * @param {{ title: string, points: { t: number, v: number }[], unit: string }} spec
 */
export function sparkline(spec) {
  const W = 240;
  const H = 48;
  const pts = spec.points;
  const max = niceMax(Math.max(1, ...pts.map((p) => p.v)));
  const t0 = pts.length ? pts[0].t : 0;
  const t1 = pts.length ? pts[pts.length - 1].t : 1;
  const x = (t) => (t1 === t0 ? W : ((t - t0) / (t1 - t0)) * (W - 4) + 2);
  const y = (v) => H - 2 - (H - 4) * (v / max);
  const last = pts.length ? pts[pts.length - 1].v : 0;
  const label = `${spec.title}: now ${Math.round(last)} ${spec.unit}, peak ${Math.round(Math.max(0, ...pts.map((p) => p.v)))}`;
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': label, class: 'sparkline' });
  root.append(svg('title', {}, label));
  root.append(svg('line', { x1: 0, x2: W, y1: H - 2, y2: H - 2, class: 'grid' }));
  if (pts.length > 1) root.append(svg('polyline', { points: pts.map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(' '), class: 'line' }));
  return root;
}
