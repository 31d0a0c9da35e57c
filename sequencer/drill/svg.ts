// Hand-written SVG charts for the drill report: small-multiple line panels (funding index
// per market over blocks, one line per run) and horizontal bar charts (liquidation
// penalties, refunds per account). Pure string building; numbers in, markup out.

export interface Series {
  name: string;
  color: string;
  points: ReadonlyArray<readonly [number, number]>;
}

export interface Panel {
  title: string;
  series: Series[];
}

const FONT = `font-family="sans-serif"`;

/** Panels stacked vertically, each with its own y scale and a legend. */
export function linePanels(title: string, xLabel: string, panels: readonly Panel[]): string {
  const W = 720;
  const PH = 170;
  const top = 40;
  const left = 90;
  const right = 20;
  const H = top + panels.length * (PH + 30) + 20;
  const parts: string[] = [header(W, H), text(W / 2, 22, title, 15, "middle", "bold")];
  panels.forEach((p, i) => {
    const y0 = top + i * (PH + 30);
    const all = p.series.flatMap((s) => s.points);
    const xs = all.map((q) => q[0]);
    const ys = all.map((q) => q[1]);
    const [xMin, xMax] = range(xs);
    const [yMin, yMax] = range(ys);
    const sx = (x: number) => left + ((x - xMin) / (xMax - xMin || 1)) * (W - left - right);
    const sy = (y: number) => y0 + 20 + (1 - (y - yMin) / (yMax - yMin || 1)) * (PH - 30);
    parts.push(text(left, y0 + 12, p.title, 12, "start", "bold"));
    parts.push(`<rect x="${left}" y="${y0 + 20}" width="${W - left - right}" height="${PH - 30}" fill="none" stroke="#ccc"/>`);
    for (const yv of [yMin, (yMin + yMax) / 2, yMax]) parts.push(text(left - 6, sy(yv) + 4, fmt(yv), 10, "end"));
    for (const xv of [xMin, Math.round((xMin + xMax) / 2), xMax]) parts.push(text(sx(xv), y0 + PH + 4, String(xv), 10, "middle"));
    p.series.forEach((s, k) => {
      if (s.points.length > 0) {
        const d = s.points.map((q, j) => `${j === 0 ? "M" : "L"}${sx(q[0]).toFixed(1)},${sy(q[1]).toFixed(1)}`).join(" ");
        parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"/>`);
      }
      parts.push(`<rect x="${W - right - 190}" y="${y0 + 26 + k * 14}" width="10" height="10" fill="${s.color}"/>`);
      parts.push(text(W - right - 176, y0 + 35 + k * 14, s.name, 10, "start"));
    });
  });
  parts.push(text(W / 2, H - 6, xLabel, 11, "middle"));
  parts.push("</svg>");
  return parts.join("\n");
}

export interface Bar {
  label: string;
  value: number;
}

/** Horizontal bars, one per label; an empty set draws the `emptyNote`. */
export function barChart(title: string, unit: string, bars: readonly Bar[], color: string, emptyNote: string): string {
  const W = 720;
  const rowH = 18;
  const left = 220;
  const H = 60 + Math.max(1, bars.length) * rowH + 20;
  const parts: string[] = [header(W, H), text(W / 2, 22, title, 15, "middle", "bold")];
  if (bars.length === 0) {
    parts.push(text(W / 2, 60, emptyNote, 12, "middle"));
  } else {
    const max = Math.max(...bars.map((b) => b.value), 1e-9);
    bars.forEach((b, i) => {
      const y = 45 + i * rowH;
      const w = (b.value / max) * (W - left - 120);
      parts.push(text(left - 6, y + 12, b.label, 10, "end"));
      parts.push(`<rect x="${left}" y="${y + 2}" width="${w.toFixed(1)}" height="${rowH - 5}" fill="${color}"/>`);
      parts.push(text(left + w + 6, y + 12, `${fmt(b.value)} ${unit}`, 10, "start"));
    });
  }
  parts.push("</svg>");
  return parts.join("\n");
}

function header(w: number, h: number): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}">\n<rect width="${w}" height="${h}" fill="white"/>`;
}

function text(x: number, y: number, s: string, size: number, anchor: "start" | "middle" | "end", weight = "normal"): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${FONT} font-size="${size}" text-anchor="${anchor}" font-weight="${weight}">${escapeXml(s)}</text>`;
}

function range(v: number[]): [number, number] {
  if (v.length === 0) return [0, 1];
  let lo = v[0]!;
  let hi = v[0]!;
  for (const x of v) {
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  return [lo, hi];
}

function fmt(v: number): string {
  if (Math.abs(v) >= 1000) return v.toFixed(0);
  if (Math.abs(v) >= 1) return v.toFixed(2);
  return v.toPrecision(3);
}

export function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
