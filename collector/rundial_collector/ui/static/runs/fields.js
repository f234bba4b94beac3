// The runs table's data model (pure, no DOM): the run rows decoded from the compact
// ``runs-table`` reply (docs/protocol.md §4.10) and the value of a named field of a run, shared
// by the filter, the sort, grouping and the cells.

/**
 * @typedef {{runId: string, name: string | null, status: string, reason: string | null,
 *   kind: string, group: string | null, jobType: string | null, host: string | null,
 *   tags: string[], startedAtMs: number, finishedAtMs: number | null, updatedAtMs: number,
 *   config: Record<string, any>}} TableRun
 */

/** Fields a filter, sort or column may name (besides ``config.<key>``/``summary.<key>``). */
export const FIELDS = ["name", "id", "state", "reason", "kind", "group", "jobType", "host",
  "tags", "start", "end", "duration", "updated"];

/** Alternative spellings of fields. */
const ALIASES = /** @type {Record<string, string>} */ ({
  runName: "name", runId: "id", status: "state", tag: "tags", job: "jobType",
  job_type: "jobType", started: "start", startedAtMs: "start", finished: "end",
  updatedAtMs: "updated",
});

/**
 * The canonical name of ``field``, or null when it names nothing. ``config.x`` stays as is;
 * ``summary.x`` names the config entry ``summary.x`` (how the SDK stores summaries).
 * @param {string} field
 * @returns {string | null}
 */
export function canonicalField(field) {
  if (/^(config|summary)\.[^\s]+$/.test(field)) return field;
  const name = ALIASES[field] ?? field;
  return FIELDS.includes(name) ? name : null;
}

/**
 * The config key a ``config.x``/``summary.x`` field reads, else null.
 * @param {string} field canonical
 * @returns {string | null}
 */
export function configKeyOf(field) {
  if (field.startsWith("config.")) return field.slice(7);
  if (field.startsWith("summary.")) return field;
  return null;
}

/**
 * The value of a canonical field of a run (null when absent). ``duration`` of a running run
 * is measured to ``nowMs``, of a lost one to its last update.
 * @param {TableRun} run
 * @param {string} field
 * @param {number} nowMs
 * @returns {any}
 */
export function fieldValue(run, field, nowMs) {
  const key = configKeyOf(field);
  if (key !== null) return run.config[key] ?? null;
  switch (field) {
    case "name": return run.name ?? run.runId;
    case "id": return run.runId;
    case "state": return run.status;
    case "start": return run.startedAtMs;
    case "end": return run.finishedAtMs;
    case "updated": return run.updatedAtMs;
    case "duration": return endMs(run, nowMs) - run.startedAtMs;
    default: return /** @type {any} */ (run)[field] ?? null;
  }
}

/**
 * When the run ended: its finish, else now while running, else (lost) its last sign of life.
 * @param {TableRun} run
 * @param {number} nowMs
 * @returns {number}
 */
function endMs(run, nowMs) {
  if (run.finishedAtMs !== null) return run.finishedAtMs;
  return run.status === "running" ? nowMs : run.updatedAtMs;
}

/**
 * Decode one compact ``runs-table`` reply (columns + config objects) into run rows (pure).
 * @param {{count: number, columns: Record<string, any[]>, config: Record<string, any>[]}} reply
 * @returns {TableRun[]}
 */
export function decodeTable(reply) {
  const c = reply.columns;
  /** @type {TableRun[]} */
  const runs = new Array(reply.count);
  for (let i = 0; i < reply.count; i++) {
    runs[i] = {
      runId: c.runId[i], name: c.runName[i], status: c.status[i], reason: c.reason[i],
      kind: c.kind[i], group: c.group[i], jobType: c.jobType[i], host: c.host[i],
      tags: c.tags[i], startedAtMs: c.startedAtMs[i], finishedAtMs: c.finishedAtMs[i],
      updatedAtMs: c.updatedAtMs[i], config: reply.config[i],
    };
  }
  return runs;
}

/**
 * The config keys (not ``summary.*``) whose value differs between runs, most common first,
 * at most ``max`` (the default config columns).
 * @param {TableRun[]} runs
 * @param {number} max
 * @returns {string[]}
 */
export function varyingConfigKeys(runs, max) {
  /** @type {Map<string, {first: any, varies: boolean, count: number}>} */
  const seen = new Map();
  /** @param {any} value scalars as they are, lists and objects as JSON text */
  const comparable = (value) => (value !== null && typeof value === "object"
    ? JSON.stringify(value) : value);
  for (const run of runs) {
    const config = run.config;
    for (const key in config) {
      const entry = seen.get(key);
      if (entry) {
        entry.count++;
        if (!entry.varies && comparable(config[key]) !== entry.first) entry.varies = true;
      } else if (!key.startsWith("summary.")) {
        seen.set(key, { first: comparable(config[key]), varies: false, count: 1 });
      }
    }
  }
  for (const [key, entry] of seen) {
    if (entry.count < runs.length) entry.varies = true; // absent in some runs
    if (!entry.varies) seen.delete(key);
  }
  return [...seen.entries()].sort((a, b) => b[1].count - a[1].count || (a[0] < b[0] ? -1 : 1))
    .slice(0, max).map(([key]) => key);
}

/**
 * Every config key of the runs, ``summary.*`` last, each list sorted.
 * @param {TableRun[]} runs
 * @returns {string[]}
 */
export function allConfigKeys(runs) {
  const keys = new Set();
  for (const run of runs) for (const key in run.config) keys.add(key);
  const sorted = /** @type {string[]} */ ([...keys]).sort();
  return [...sorted.filter((k) => !k.startsWith("summary.")),
    ...sorted.filter((k) => k.startsWith("summary."))];
}
