// The run page's Media tab: one shared step slider (#media-step) over every step at which the
// run logged media, and one panel per media key showing its item at the nearest logged step:
// images (with captions) and tables as sortable grids. Only the shown step is fetched, plus its
// neighbours; a chart click (bus event ``step-focus``) moves the slider to that step.
import { getState } from "../core/urlstate.js";
import { el, message } from "./assets_dom.js";
import { ItemCache, mediaKeys, mediaSteps } from "./media_index.js";
import { MediaKeyView } from "./media_key.js";
import { nearestStepIndex } from "./media_logic.js";

/**
 * @typedef {{ws: string, project: string, projectId: string, run: Record<string, any>,
 *   emit: (name: string, detail: any) => void,
 *   on: (name: string, handler: (detail: any) => void) => () => void}} RunContext
 */

/**
 * Draw the media tab into ``panel``. ``panel.dataset.media`` goes ``loading`` → ``ready``,
 * ``empty`` or ``error`` (with a message; never throws).
 * @param {HTMLElement} panel
 * @param {RunContext} context
 * @returns {Promise<void>}
 */
export async function renderMediaTab(panel, context) {
  const where = { ws: context.ws, project: context.project, runId: context.run.runId };
  const root = el("section", { className: "assets media-tab" }, [message("muted", "Loading media…")]);
  panel.replaceChildren(root);
  panel.dataset.media = "loading";
  let views;
  try {
    const keys = await mediaKeys(where);
    const cache = new ItemCache(context.projectId, where.runId);
    views = await Promise.all(keys.items.map(async (key) => {
      const steps = await mediaSteps(where, key.mediaKey);
      return new MediaKeyView(where, cache, key, steps.items, steps.truncated);
    }));
  } catch (err) {
    root.replaceChildren(message("error", `Could not load this run's media: ${/** @type {Error} */ (err).message}`));
    panel.dataset.media = "error";
    return;
  }
  if (!views.length) {
    root.replaceChildren(message("empty", "This run has not logged any media (images or tables)."));
    panel.dataset.media = "empty";
    return;
  }
  const steps = [...new Set(views.flatMap((v) => v.steps))].sort((a, b) => a - b);
  const slider = stepSlider(steps, views, root);
  root.replaceChildren(slider.element, ...views.map((v) => v.element));
  const focused = Number(getState("step") ?? "");
  slider.go(getState("step") && Number.isFinite(focused) ? focused : steps[steps.length - 1]);
  const stop = context.on("step-focus", (detail) => {
    if (!root.isConnected) stop();
    else if (Number.isFinite(detail?.step)) slider.go(detail.step);
  });
  panel.dataset.media = "ready";
}

/**
 * The shared slider over the union of logged steps, with previous/next buttons.
 * @param {number[]} steps ascending, not empty
 * @param {MediaKeyView[]} views
 * @param {HTMLElement} root gets ``data-step`` (the slider's step)
 * @returns {{element: HTMLElement, go: (step: number) => void}}
 */
function stepSlider(steps, views, root) {
  const input = /** @type {HTMLInputElement} */ (el("input", {
    type: "range", id: "media-step", min: "0", max: String(steps.length - 1), step: "1",
    disabled: steps.length < 2, attrs: { "aria-label": "Media step" } }));
  const output = el("output", { className: "media-step-value", htmlFor: "media-step" });
  const prev = el("button", { type: "button", textContent: "‹", title: "Previous step",
    attrs: { "aria-label": "Previous step" } });
  const next = el("button", { type: "button", textContent: "›", title: "Next step",
    attrs: { "aria-label": "Next step" } });
  const apply = () => {
    const step = steps[Number(input.value)];
    output.textContent = `step ${step}`;
    input.setAttribute("aria-valuetext", `step ${step}`);
    root.dataset.step = String(step);
    input.dataset.stepValue = String(step);
    for (const view of views) view.show(step);
  };
  input.addEventListener("input", apply);
  const move = (/** @type {number} */ by) => {
    input.value = String(Math.min(steps.length - 1, Math.max(0, Number(input.value) + by)));
    apply();
  };
  prev.addEventListener("click", () => move(-1));
  next.addEventListener("click", () => move(1));
  const element = el("div", { className: "media-slider" }, [
    el("label", { htmlFor: "media-step", textContent: "Step" }), prev, input, next, output,
    el("span", { className: "muted", textContent: `${steps.length} logged steps (${steps[0]}–${steps[steps.length - 1]})` })]);
  return { element, go: (step) => { input.value = String(nearestStepIndex(steps, step)); apply(); } };
}
