import os from 'node:os';

/** A Markdown table; `align` holds 'l' or 'r' per column. */
export function markdownTable(header, rows, align = header.map(() => 'l')) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  const rule = align.map((a) => (a === 'r' ? '---:' : '---'));
  return [line(header), line(rule), ...rows.map(line)].join('\n');
}

/** Microseconds with precision that suits their size. */
export function formatUs(us) {
  if (us < 10) return us.toFixed(2);
  if (us < 100) return us.toFixed(1);
  return Math.round(us).toLocaleString('en-US');
}

export function formatRatio(ratio) {
  return ratio >= 10 ? `${Math.round(ratio).toLocaleString('en-US')}×` : `${ratio.toFixed(1)}×`;
}

/** What the numbers were measured on, as one Markdown line. */
export function environmentLine() {
  const cpus = os.cpus();
  const model = cpus[0]?.model?.trim() || 'unknown CPU';
  return `Node ${process.version} · ${model} (${cpus.length} cores) · ${os.platform()} ${os.arch()}`;
}
