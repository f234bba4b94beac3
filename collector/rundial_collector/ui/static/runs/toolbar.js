// The runs table's toolbar: the filter box (#runs-filter) with its inline error, the group-by
// select (#runs-group), the column chooser and the run count.

/**
 * @typedef {{element: HTMLElement, filter: HTMLInputElement, group: HTMLSelectElement,
 *   chooser: HTMLDetailsElement, count: HTMLElement, refresh: HTMLButtonElement,
 *   showError: (message: string | null) => void, showLoadError: (error: Error) => void,
 *   fillGroups: (configKeys: string[], current: string | null) => void}} Toolbar
 */

/** Fields offered for grouping besides the config keys. */
const GROUP_FIELDS = ["group", "state", "kind", "jobType", "host"];

/** @returns {Toolbar} */
export function buildToolbar() {
  const element = Object.assign(document.createElement("div"), { className: "runs-toolbar" });
  const filter = Object.assign(document.createElement("input"), {
    id: "runs-filter", type: "search", autocomplete: "off", spellcheck: false,
    placeholder: "filter: text, config.lr < 0.01, state = running, tag:foo" });
  filter.setAttribute("aria-label", "filter runs");
  filter.setAttribute("aria-describedby", "runs-filter-error");
  const error = Object.assign(document.createElement("p"), {
    id: "runs-filter-error", className: "filter-error error" });
  error.setAttribute("role", "status");
  const group = Object.assign(document.createElement("select"), { id: "runs-group" });
  group.setAttribute("aria-label", "group runs by");
  const chooser = Object.assign(document.createElement("details"), { className: "col-chooser" });
  const count = Object.assign(document.createElement("span"), { className: "muted run-count" });
  const refresh = Object.assign(document.createElement("button"), {
    type: "button", className: "runs-refresh", textContent: "↻", title: "reload the runs" });
  refresh.setAttribute("aria-label", "reload the runs");
  const line = Object.assign(document.createElement("div"), { className: "runs-controls" });
  line.append(filter, group, chooser, refresh, count);
  element.append(line, error);
  return {
    element, filter, group, chooser, count, refresh,
    showError(message) {
      error.textContent = message ? `Filter not applied: ${message}` : "";
      filter.setAttribute("aria-invalid", String(Boolean(message)));
    },
    showLoadError(err) {
      error.textContent = `Could not reload the runs: ${err.message}`;
    },
    fillGroups(configKeys, current) {
      const options = [["", "no grouping"], ...GROUP_FIELDS.map((f) => [f, `group by ${f}`]),
        ...configKeys.filter((k) => !k.startsWith("summary."))
          .map((k) => [`config.${k}`, `group by ${k}`])];
      group.replaceChildren(...options.map(([value, text]) => Object.assign(
        document.createElement("option"), { value, textContent: text })));
      group.value = current ?? "";
    },
  };
}
