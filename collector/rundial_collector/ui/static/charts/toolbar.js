// The grid's controls: key search, x axis, log y, smoothing, zoom reset, live status.

/**
 * @typedef {{search: HTMLInputElement, searchError: HTMLElement, x: HTMLSelectElement,
 *   ylog: HTMLInputElement, smoothKind: HTMLSelectElement, smooth: HTMLInputElement,
 *   smoothLabel: HTMLElement, reset: HTMLButtonElement, live: HTMLElement,
 *   root: HTMLElement}} Toolbar
 */

/**
 * @param {string} tag
 * @param {Record<string, any>} props
 * @returns {any}
 */
function make(tag, props) {
  return Object.assign(document.createElement(tag), props);
}

/**
 * Give ``el`` the class ``id`` always and the id ``id`` when no other element has it: a page
 * with two grids (the run page's Charts and System tabs) keeps its ids unique, the first grid
 * holding them.
 * @template {HTMLElement} T
 * @param {T} el
 * @param {string} id
 * @returns {T}
 */
export function claimId(el, id) {
  el.classList.add(id);
  if (!document.getElementById(id)) el.id = id;
  return el;
}

/** @param {string} text @param {HTMLElement} control */
function labelled(text, control) {
  const label = make("label", { className: "chart-control" });
  label.append(document.createTextNode(text), control);
  return label;
}

/**
 * Build the toolbar (no behaviour: the grid binds it).
 * @returns {Toolbar}
 */
export function createToolbar() {
  const root = make("div", { className: "chart-toolbar" });
  const search = make("input", { type: "search",
    placeholder: "Search keys (text or /regex/)", autocomplete: "off" });
  search.setAttribute("aria-label", "Search metric keys");
  const searchError = make("span", { className: "error chart-search-error", role: "alert" });
  const x = make("select", {});
  for (const [value, text] of [["step", "Step"], ["wall", "Wall time"], ["relative", "Relative"]]) {
    x.append(make("option", { value, textContent: text }));
  }
  const ylog = make("input", { type: "checkbox" });
  const smoothKind = make("select", {});
  smoothKind.append(make("option", { value: "ema", textContent: "EMA" }),
    make("option", { value: "mean", textContent: "Running mean" }));
  const smooth = make("input", { type: "range", min: "0", max: "0.999",
    step: "0.001", value: "0" });
  smooth.setAttribute("aria-label", "Smoothing");
  const smoothLabel = make("output", { className: "chart-smooth-value", textContent: "off" });
  const reset = make("button", { type: "button", textContent: "Reset zoom",
    disabled: true });
  const live = make("span", { className: "chart-live" });
  claimId(search, "chart-search");
  claimId(x, "chart-x");
  claimId(ylog, "chart-ylog");
  claimId(smoothKind, "chart-smooth-kind");
  claimId(smooth, "chart-smooth");
  claimId(reset, "chart-reset-zoom");
  root.append(search, searchError, labelled("x ", x), labelled("log y ", ylog),
    labelled("smoothing ", smoothKind), smooth, smoothLabel, reset, live);
  return { root, search, searchError, x, ylog, smoothKind, smooth, smoothLabel, reset, live };
}

/**
 * Set the slider's range for the smoothing kind (EMA weight 0..0.999, mean 1..1000 points).
 * @param {Toolbar} bar
 * @param {string} kind
 * @param {string|null} value
 */
export function setSmoothControl(bar, kind, value) {
  bar.smoothKind.value = kind;
  if (kind === "mean") Object.assign(bar.smooth, { min: "0", max: "1000", step: "1" });
  else Object.assign(bar.smooth, { min: "0", max: "0.999", step: "0.001" });
  bar.smooth.value = value ?? "0";
  const number = Number(value);
  bar.smoothLabel.textContent = !value || !(number > 0) ? "off"
    : kind === "mean" ? `${Math.round(number)} pts` : number.toFixed(3);
}

/**
 * @typedef {{onSearch: (text: string) => void, onX: (mode: string) => void,
 *   onYlog: (ylog: boolean) => void, onSmooth: (kind: string, value: string|null) => void,
 *   onReset: () => void}} ToolbarHandlers
 */

/**
 * Call ``handlers`` when the controls change. Changing the smoothing kind turns smoothing off
 * (an EMA weight is not a window size); the slider's value 0 is "off" (null).
 * @param {Toolbar} bar
 * @param {ToolbarHandlers} handlers
 * @param {() => string} currentKind
 */
export function bindToolbar(bar, handlers, currentKind) {
  bar.search.addEventListener("input", () => handlers.onSearch(bar.search.value));
  bar.x.addEventListener("change", () => handlers.onX(bar.x.value));
  bar.ylog.addEventListener("change", () => handlers.onYlog(bar.ylog.checked));
  const onSmooth = () => {
    const kind = bar.smoothKind.value;
    const value = kind === currentKind() && Number(bar.smooth.value) > 0 ? bar.smooth.value : null;
    setSmoothControl(bar, kind, value);
    handlers.onSmooth(kind, value);
  };
  bar.smooth.addEventListener("input", onSmooth);
  bar.smoothKind.addEventListener("change", onSmooth);
  bar.reset.addEventListener("click", handlers.onReset);
}
