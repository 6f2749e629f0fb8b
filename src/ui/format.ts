// Number, byte and time formatting for the panels.

export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '?';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v >= 100 ? 0 : 1)} ${units[i]}`;
}

export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '–';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return h > 0 ? `${h}h ${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m ${String(r).padStart(2, '0')}s` : `${r}s`;
}

/** Metric values: 4 significant digits, exponent form for tiny learning rates. */
export function formatMetric(v: number | undefined): string {
  if (v === undefined || v === null) return '';
  if (!Number.isFinite(v)) return String(v);
  if (v !== 0 && Math.abs(v) < 1e-3) return v.toExponential(2);
  return Number(v.toPrecision(4)).toString();
}

export function percent(done: number, total: number | null): number | null {
  return total && total > 0 ? Math.min(100, (100 * done) / total) : null;
}

/**
 * A probability as a percentage with one decimal, and in exponent form near 0 and 1 so that 1e-4 does not read
 * "0.0%" nor 1 − 1e-4 "100.0%": 1e-4 → "1.0e-2%", 0.9999 → "100% − 1.0e-2%".
 */
export function formatProbability(p: number): string {
  if (!Number.isFinite(p)) return String(p);
  if (p === 0 || p === 1) return `${100 * p}%`;
  if (p < 1e-3) return `${(100 * p).toExponential(1)}%`;
  if (p > 1 - 1e-3) return `100% − ${(100 * (1 - p)).toExponential(1)}%`;
  return `${(100 * p).toFixed(1)}%`;
}
