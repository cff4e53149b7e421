// Intervals for figures made of per-round ratios: a percentile bootstrap of the median. Seeded, so the
// same rounds always give the same interval.
import { median, percentile } from './common.js'

/** A small deterministic PRNG (mulberry32): a bench's interval must not change from one print to the next. */
function rng (seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * Median of `values` with a 95 % percentile-bootstrap interval (resampling the rounds with replacement),
 * and the 10th-90th percentile spread of the values themselves.
 */
export function summarize (values, { resamples = 4000, seed = 11 } = {}) {
  const clean = values.filter(Number.isFinite)
  const n = clean.length
  if (n === 0) return { median: NaN, lo: NaN, hi: NaN, p10: NaN, p90: NaN, n: 0 }
  const random = rng(seed)
  const medians = new Float64Array(resamples)
  const sample = new Float64Array(n)
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < n; i++) sample[i] = clean[Math.floor(random() * n)]
    medians[r] = median(sample)
  }
  return {
    median: median(clean),
    lo: percentile(medians, 2.5),
    hi: percentile(medians, 97.5),
    p10: percentile(clean, 10),
    p90: percentile(clean, 90),
    n
  }
}

/** "1.012 [1.004, 1.020]" */
export function fmtInterval (s, digits = 3) {
  if (!Number.isFinite(s.median)) return '–'
  return `${s.median.toFixed(digits)} [${s.lo.toFixed(digits)}, ${s.hi.toFixed(digits)}]`
}
