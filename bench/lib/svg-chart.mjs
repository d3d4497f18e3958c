// A grouped horizontal bar chart as hand-written SVG: no dependency, deterministic output (the
// same chart gives the same bytes), readable in GitHub's light and dark themes (it draws its own
// white card, so the dark theme shows it as a light image rather than dark text on black).
//
// Input: one chart of a results file (bench/lib/results.mjs): { id, title, unit, higherIsBetter,
// scale?: 'linear' | 'log', note?, groups: [{ label, bars: [{ label, value }] }] }. Bars with the
// same label share a colour across groups (blues for labels starting with "distcache"); the legend
// lists them when there are several groups.

const WIDTH = 820;
const PAD = 20;
const BAR = 16;
const ROW = 22;
const VALUE_RESERVE = 84;
const MAX_LABEL = 360;
const FONT = "-apple-system, BlinkMacSystemFont, 'Segoe UI', Helvetica, Arial, sans-serif";
const TEXT = '#1f2328';
const MUTED = '#59636e';
const GRID = '#d8dee4';
const AXIS = '#8c959f';
// distcache's bars in blues, every other candidate in the other colours of the Okabe-Ito palette
// (colour-blind safe; its yellow is left out, too light on white) and then greys and browns.
const OURS = ['#0072B2', '#56B4E9', '#1B3F6B', '#7FA7D9', '#2E86C1'];
const THEIRS = ['#E69F00', '#D55E00', '#CC79A7', '#009E73', '#7F7F7F', '#000000', '#8C564B', '#B8860B'];
const isOurs = (label) => /^distcache\b/i.test(label);

/** Escapes text for an XML text node or a double-quoted attribute. */
export function escapeXml(text) {
  return String(text)
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&apos;');
}

/** Approximate width in px of `text` at `size` px in a sans-serif font (no font metrics here). */
export function textWidth(text, size) {
  let units = 0;
  for (const ch of String(text)) {
    if ("il.,:;|!'` ()[]".includes(ch)) units += 0.3;
    else if ('fjrt-/'.includes(ch)) units += 0.38;
    else if ('mwMW@%'.includes(ch)) units += 0.88;
    else if (ch >= 'A' && ch <= 'Z') units += 0.68;
    else units += 0.56;
  }
  return units * size;
}

/** A coordinate with at most one decimal, no trailing `.0` (deterministic and compact). */
const n = (value) => {
  const rounded = Math.round(value * 10) / 10;
  return Object.is(rounded, -0) ? '0' : String(rounded);
};

/** 3 significant digits, trailing zeros dropped: 1.5, 83.3, 950. */
const sig = (value) => String(Number(value.toPrecision(3)));

/** A number with a k / M / G suffix: 83.3k, 1.42M. */
export function compact(value) {
  const size = Math.abs(value);
  if (size >= 1e9) return `${sig(value / 1e9)}G`;
  if (size >= 1e6) return `${sig(value / 1e6)}M`;
  if (size >= 1e4) return `${sig(value / 1e3)}k`;
  if (size >= 1000) return String(Math.round(value));
  if (size === 0) return '0';
  return sig(value);
}

/** A bar's value label in the chart's unit. */
export function formatValue(value, unit) {
  if (/^x\b/.test(unit)) return `${value >= 10 ? value.toFixed(1) : value.toFixed(2)}x`;
  if (/^(B|bytes)\b/.test(unit)) return `${Math.round(value).toLocaleString('en-US')} B`;
  if (/^(ns|µs|us|ms|s)\b/.test(unit)) return `${compact(value)} ${unit.split('/')[0]}`;
  if (/^(calls?|requests?)$/.test(unit))
    return `${compact(value)} ${value === 1 ? unit.replace(/s$/, '') : unit}`;
  return compact(value);
}

/** Axis ticks: "nice" steps from 0 (linear) or powers of ten (log). */
function axis(values, scale) {
  if (scale === 'log') {
    const positive = values.filter((value) => value > 0);
    let low = 10 ** Math.floor(Math.log10(Math.min(...positive)));
    let high = 10 ** Math.ceil(Math.log10(Math.max(...positive)));
    if (high <= low) high = low * 10;
    const decades = Math.round(Math.log10(high / low));
    const ticks = [];
    for (let power = low; power <= high * 1.0001; power *= 10) {
      ticks.push(power);
      if (decades <= 2 && power < high) ticks.push(power * 2, power * 5);
    }
    low = Math.log10(low);
    high = Math.log10(high);
    return {
      ticks,
      position: (value) => (Math.log10(Math.max(value, 10 ** low)) - low) / (high - low),
    };
  }
  const max = Math.max(...values, 0) || 1;
  const raw = max / 5;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const normalised = raw / magnitude;
  const step =
    (normalised <= 1 ? 1 : normalised <= 2 ? 2 : normalised <= 2.5 ? 2.5 : normalised <= 5 ? 5 : 10) *
    magnitude;
  const top = Math.ceil(max / step - 1e-9) * step;
  const ticks = [];
  for (let i = 0; i * step <= top + step * 1e-9; i++) ticks.push(Number((i * step).toPrecision(12)));
  return { ticks, position: (value) => Math.max(0, value) / top };
}

/** `text`, shortened with an ellipsis to fit `width` px at `size` px (the bar's tooltip has it all). */
function fit(text, width, size) {
  if (textWidth(text, size) <= width) return text;
  let shortened = text;
  while (shortened.length > 1 && textWidth(`${shortened}…`, size) > width) shortened = shortened.slice(0, -1);
  return `${shortened.trimEnd()}…`;
}

/** Splits `text` into lines that fit `width` px at `size` px. */
function wrap(text, width, size) {
  const lines = [];
  let line = '';
  for (const word of String(text).split(/\s+/)) {
    const candidate = line === '' ? word : `${line} ${word}`;
    if (line !== '' && textWidth(candidate, size) > width) {
      lines.push(line);
      line = word;
    } else line = candidate;
  }
  if (line !== '') lines.push(line);
  return lines;
}

/**
 * Renders one chart.
 * @param {object} chart a chart of a results file
 * @param {{ scenario?: string, recordedAt?: string, machine?: string }} [source] for the footer
 * @returns {string} the SVG document
 */
export function renderChart(chart, source = {}) {
  const scale = chart.scale === 'log' ? 'log' : 'linear';
  const out = [];
  let y = PAD;

  const series = [];
  for (const group of chart.groups)
    for (const bar of group.bars) if (!series.includes(bar.label)) series.push(bar.label);
  const colours = new Map();
  for (const label of series) {
    const palette = isOurs(label) ? OURS : THEIRS;
    const used = [...colours.keys()].filter((other) => isOurs(other) === isOurs(label)).length;
    colours.set(label, palette[used % palette.length]);
  }
  const colour = (label) => colours.get(label);

  // Title, then the subtitle: unit, direction, scale, note.
  const titleLines = wrap(chart.title, WIDTH - 2 * PAD, 16);
  for (const line of titleLines) {
    y += 20;
    out.push(
      `<text x="${PAD}" y="${y}" font-size="16" font-weight="600" fill="${TEXT}">${escapeXml(line)}</text>`,
    );
  }
  const subtitle = [
    chart.unit,
    chart.higherIsBetter ? 'higher is better' : 'lower is better',
    ...(scale === 'log' ? ['log scale'] : []),
  ].join(' · ');
  y += 20;
  out.push(`<text x="${PAD}" y="${y}" font-size="12" fill="${MUTED}">${escapeXml(subtitle)}</text>`);
  for (const line of chart.note === undefined ? [] : wrap(chart.note, WIDTH - 2 * PAD, 12)) {
    y += 16;
    out.push(`<text x="${PAD}" y="${y}" font-size="12" fill="${MUTED}">${escapeXml(line)}</text>`);
  }

  // Legend (several groups: the same series recur, one colour each).
  if (chart.groups.length > 1 && series.length > 1) {
    y += 12;
    let x = PAD;
    let rowTop = y;
    for (const label of series) {
      const width = 18 + textWidth(label, 12) + 18;
      if (x + width > WIDTH - PAD && x > PAD) {
        x = PAD;
        rowTop += 20;
      }
      out.push(
        `<rect x="${n(x)}" y="${n(rowTop)}" width="12" height="12" rx="2" fill="${colour(label)}"/>`,
        `<text x="${n(x + 18)}" y="${n(rowTop + 10.5)}" font-size="12" fill="${TEXT}">${escapeXml(label)}</text>`,
      );
      x += width;
    }
    y = rowTop + 12;
  }

  // Plot area: labels on the left, bars from x0 to x1, value labels after the bars.
  const labels = chart.groups.flatMap((group) => group.bars.map((bar) => bar.label));
  const labelWidth = Math.min(
    MAX_LABEL + 14,
    Math.max(110, ...labels.map((label) => textWidth(label, 12) + 14)),
  );
  const x0 = PAD + labelWidth;
  const x1 = WIDTH - PAD - VALUE_RESERVE;
  const values = chart.groups.flatMap((group) => group.bars.map((bar) => bar.value));
  const { ticks, position } = axis(values, scale);
  const xOf = (value) => x0 + position(value) * (x1 - x0);
  const showGroups = chart.groups.length > 1 || chart.groups[0].label !== '';

  y += 16;
  const plotTop = y;
  const bars = [];
  for (const group of chart.groups) {
    if (showGroups) {
      bars.push(
        `<text x="${PAD}" y="${n(y + 13)}" font-size="12" font-weight="600" fill="${TEXT}">${escapeXml(group.label)}</text>`,
      );
      y += ROW;
    }
    for (const bar of group.bars) {
      const end = xOf(bar.value);
      const text = formatValue(bar.value, chart.unit);
      const top = y + (ROW - BAR) / 2;
      bars.push(
        `<text x="${n(x0 - 8)}" y="${n(top + 12)}" font-size="12" text-anchor="end" fill="${TEXT}">${escapeXml(fit(bar.label, MAX_LABEL, 12))}</text>`,
        `<rect x="${n(x0)}" y="${n(top)}" width="${n(Math.max(end - x0, bar.value > 0 ? 1 : 0))}" height="${BAR}" rx="2" fill="${colour(bar.label)}"><title>${escapeXml(`${group.label ? `${group.label}, ` : ''}${bar.label}: ${text}`)}</title></rect>`,
        `<text x="${n(end + 6)}" y="${n(top + 12)}" font-size="12" fill="${TEXT}">${escapeXml(text)}</text>`,
      );
      y += ROW;
    }
    y += 8;
  }
  const plotBottom = y - 4;

  // Gridlines and the axis under the bars, tick labels below.
  for (const tick of ticks) {
    const x = n(xOf(tick));
    out.push(
      `<line x1="${x}" y1="${n(plotTop)}" x2="${x}" y2="${n(plotBottom)}" stroke="${GRID}" stroke-width="1"/>`,
    );
    out.push(
      `<text x="${x}" y="${n(plotBottom + 16)}" font-size="11" text-anchor="middle" fill="${MUTED}">${escapeXml(compact(tick))}</text>`,
    );
  }
  out.push(
    `<line x1="${n(x0)}" y1="${n(plotTop)}" x2="${n(x0)}" y2="${n(plotBottom)}" stroke="${AXIS}" stroke-width="1"/>`,
  );
  out.push(
    `<line x1="${n(x0)}" y1="${n(plotBottom)}" x2="${n(x1)}" y2="${n(plotBottom)}" stroke="${AXIS}" stroke-width="1"/>`,
  );
  out.push(...bars);
  y = plotBottom + 22;

  // Footer: where the numbers come from.
  const footer = [
    source.scenario === undefined ? undefined : `bench/results/${source.scenario}.json`,
    source.recordedAt === undefined
      ? undefined
      : `recorded ${source.recordedAt.slice(0, 16).replace('T', ' ')} UTC`,
    source.machine,
  ]
    .filter((part) => part !== undefined)
    .join(' · ');
  for (const line of footer === '' ? [] : wrap(footer, WIDTH - 2 * PAD, 10)) {
    y += 14;
    out.push(`<text x="${PAD}" y="${n(y)}" font-size="10" fill="${MUTED}">${escapeXml(line)}</text>`);
  }
  const height = Math.ceil(y + PAD - 4);

  const id = `${source.scenario ?? 'chart'}-${chart.id}`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-labelledby="${escapeXml(id)}-title">`,
    `<title id="${escapeXml(id)}-title">${escapeXml(chart.title)}</title>`,
    `<rect x="0.5" y="0.5" width="${WIDTH - 1}" height="${height - 1}" rx="6" fill="#ffffff" stroke="${GRID}"/>`,
    `<g font-family="${escapeXml(FONT)}">`,
    ...out,
    '</g>',
    '</svg>',
    '',
  ].join('\n');
}

/**
 * Problems that make `text` not well-formed XML (a small checker for what renderChart writes:
 * elements, double-quoted attributes, the five predefined entities and numeric references).
 */
export function xmlProblems(text) {
  const problems = [];
  const stack = [];
  let roots = 0;
  const entity = /&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/y;
  const checkText = (segment, where) => {
    for (let i = 0; i < segment.length; i++) {
      if (segment[i] === '<') problems.push(`raw "<" in ${where}`);
      if (segment[i] === '&') {
        entity.lastIndex = i;
        if (!entity.test(segment)) problems.push(`bad entity in ${where}: ${segment.slice(i, i + 10)}`);
      }
    }
  };
  let i = 0;
  while (i < text.length && problems.length < 20) {
    const open = text.indexOf('<', i);
    const segment = text.slice(i, open === -1 ? text.length : open);
    if (stack.length === 0 && segment.trim() !== '')
      problems.push(`text outside the root: ${segment.trim().slice(0, 20)}`);
    checkText(segment, 'text');
    if (open === -1) break;
    if (text.startsWith('<!--', open)) {
      const end = text.indexOf('-->', open);
      if (end === -1) problems.push('unterminated comment');
      i = end === -1 ? text.length : end + 3;
      continue;
    }
    const close = text.indexOf('>', open);
    if (close === -1) {
      problems.push('unterminated tag');
      break;
    }
    const tag = text.slice(open + 1, close);
    i = close + 1;
    if (tag.startsWith('/')) {
      const name = tag.slice(1).trim();
      const expected = stack.pop();
      if (name !== expected) problems.push(`</${name}> closes <${expected ?? 'nothing'}>`);
      continue;
    }
    const match = /^([A-Za-z_][\w:.-]*)((?:\s+[A-Za-z_:][\w:.-]*="[^"]*")*)\s*(\/?)$/.exec(tag);
    if (match === null) {
      problems.push(`malformed tag <${tag.slice(0, 40)}>`);
      continue;
    }
    const names = [...match[2].matchAll(/([A-Za-z_:][\w:.-]*)="([^"]*)"/g)];
    const seen = new Set();
    for (const [, name, value] of names) {
      if (seen.has(name)) problems.push(`duplicate attribute ${name} on <${match[1]}>`);
      seen.add(name);
      checkText(value, `attribute ${name}`);
    }
    if (stack.length === 0) roots++;
    if (match[3] !== '/') stack.push(match[1]);
  }
  if (stack.length > 0) problems.push(`unclosed <${stack.join('>, <')}>`);
  if (roots !== 1) problems.push(`${roots} root elements`);
  return problems;
}
