// The fidelity badge's text (pure): points drawn against points logged, the bucket size in
// steps, and how many duplicate steps were resolved.
import { siFormat } from "./axis.js";

/**
 * Steps per bucket of the bucketed entries (the widest), or null when every entry is raw.
 * @param {Record<string, any>[]} entries
 * @param {number} buckets the bucket budget asked for
 * @returns {number|null}
 */
export function bucketSize(entries, buckets) {
  let size = null;
  for (const e of entries) {
    if (e.mode !== "buckets") continue;
    const span = e.lastStep - e.firstStep + 1;
    const steps = Math.max(1, Math.ceil(span / Math.max(1, buckets)));
    size = size === null ? steps : Math.max(size, steps);
  }
  return size;
}

/**
 * "1k of 1M pts · 1k steps/bucket · 100k dup" (or "· raw" when every entry is raw).
 * @param {Record<string, any>[]} entries
 * @param {number|null} size steps per bucket (null: raw)
 */
export function fidelityText(entries, size) {
  let shown = 0;
  let logged = 0;
  let dups = 0;
  for (const e of entries) {
    shown += (e.mode === "buckets" ? e.count : e.steps)?.length ?? 0;
    logged += e.pointsLogged ?? 0;
    dups += e.duplicatesResolved ?? 0;
  }
  const parts = [`${siFormat(shown)} of ${siFormat(logged)} pts`,
    size === null ? "raw" : `${siFormat(size)} steps/bucket`];
  if (dups) parts.push(`${siFormat(dups)} dup steps resolved`);
  return parts.join(" · ");
}

/**
 * The badge's tooltip: the same in words, per run.
 * @param {Record<string, any>[]} entries
 */
export function fidelityTitle(entries) {
  return entries.map((e) => `${e.runId}: ${e.mode}, ${e.pointsInRange ?? 0} points in range ` +
    `of ${e.pointsLogged ?? 0} logged, ${e.duplicatesResolved ?? 0} duplicate steps resolved`)
    .join("\n");
}
