// The details pane of the Traces tab: a span's identity, times, status, model fields,
// attributes (pretty JSON), events and evidence links (large attribute values the SDK uploaded
// as ``trace_evidence`` artifacts: a download through POST /api/v1/artifacts/download).
import { postJson } from "../api.js";
import { evidenceRefs, parseNs } from "./spanmath.js";
import { formatDuration } from "../format.js";
import { exactTime } from "./timefmt.js";

/**
 * @typedef {import("./spanmath.js").Span} Span
 * @typedef {import("./data.js").RunContext} RunContext
 */

/**
 * Fill ``pane`` with the details of ``span``.
 * @param {HTMLElement} pane
 * @param {Span} span
 * @param {RunContext} context
 */
export function renderSpanDetails(pane, span, context) {
  const start = parseNs(span.startNs);
  const end = parseNs(span.endNs);
  const attrs = parseAttrs(span.attrsJson);
  /** @type {[string, string][]} */
  const fields = [
    ["name", span.name], ["kind", span.kind], ["status", span.status],
    ["trace id", span.traceId], ["span id", span.spanId],
    ["parent span id", span.parentSpanId ?? "—"],
    ["start", start === null ? "—" : exactTime(Number(start / 1_000_000n))],
    ["end", end === null ? "open (still running, or never ended)" :
      exactTime(Number(end / 1_000_000n))],
    ["duration", start !== null && end !== null ? formatDuration(Number(end - start) / 1e6) : "—"],
  ];
  for (const [label, field] of [["model", "model"], ["gen-ai system", "genAiSystem"],
    ["tokens in", "tokensIn"], ["tokens out", "tokensOut"], ["cost (USD)", "costUsd"]]) {
    if (span[field] !== null && span[field] !== undefined) fields.push([label, String(span[field])]);
  }
  const table = document.createElement("table");
  table.className = "span-fields";
  for (const [label, value] of fields) {
    const tr = table.insertRow();
    tr.append(Object.assign(document.createElement("th"), { textContent: label }),
      Object.assign(document.createElement("td"), { textContent: value }));
  }
  pane.replaceChildren(
    Object.assign(document.createElement("h3"), { textContent: span.name }), table,
    heading("Attributes"), pre(attrs),
    heading(`Events (${(span.events ?? []).length})`), eventsList(span, start),
    heading("Evidence"), evidenceList(attrs, context));
}

/** @param {string} text */
function heading(text) {
  return Object.assign(document.createElement("h4"), { textContent: text });
}

/** @param {unknown} value */
function pre(value) {
  return Object.assign(document.createElement("pre"), { className: "span-json",
    textContent: JSON.stringify(value, null, 2) });
}

/** @param {string} text @returns {unknown} */
function parseAttrs(text) {
  try {
    return JSON.parse(text || "{}");
  } catch {
    return text;
  }
}

/** @param {Span} span @param {bigint | null} start */
function eventsList(span, start) {
  const events = span.events ?? [];
  if (!events.length) return Object.assign(document.createElement("p"), {
    className: "muted", textContent: "No events." });
  const list = document.createElement("ol");
  list.className = "span-events";
  for (const event of events) {
    const at = parseNs(event.timestampNs ?? null);
    const eventAttrs = typeof event.attrsJson === "string" ? parseAttrs(event.attrsJson) : null;
    const li = document.createElement("li");
    li.append(Object.assign(document.createElement("strong"), { textContent: event.name ?? "event" }),
      document.createTextNode(at !== null && start !== null
        ? ` at +${formatDuration(Number(at - start) / 1e6)}` : ""));
    if (eventAttrs && typeof eventAttrs === "object" && Object.keys(eventAttrs).length) {
      li.append(pre(eventAttrs));
    }
    list.append(li);
  }
  return list;
}

/** @param {unknown} attrs @param {RunContext} context */
function evidenceList(attrs, context) {
  const found = evidenceRefs(attrs);
  if (!found.length) return Object.assign(document.createElement("p"), {
    className: "muted", textContent: "No evidence attached." });
  const list = document.createElement("ul");
  list.className = "span-evidence";
  for (const { path, ref } of found) {
    const li = document.createElement("li");
    li.append(Object.assign(document.createElement("code"), { textContent: path }), " ");
    if (ref.kind === "rundial.evidence_ref") {
      const button = Object.assign(document.createElement("button"), {
        type: "button", className: "evidence-download",
        textContent: `Download ${ref.path} (${ref.sizeBytes ?? "?"} bytes)`,
      });
      button.addEventListener("click", async () => {
        const reply = await postJson("/api/v1/artifacts/download", {
          projectId: context.projectId, artifactId: ref.artifactId, path: ref.path });
        if (reply.ok) window.location.assign(reply.body.url);
        else button.textContent = `Could not download: ${reply.message}`;
      });
      li.append(button);
    } else {
      li.append(Object.assign(document.createElement("span"), { className: "muted",
        textContent: `not uploaded (${ref.status ?? "unknown"}), ${ref.sizeBytes ?? "?"} bytes` }));
    }
    list.append(li);
  }
  return list;
}
