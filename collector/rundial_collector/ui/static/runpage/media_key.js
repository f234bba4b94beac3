// One media key of the Media tab: shows the item(s) logged at the logged step nearest to the
// slider's step, fetched when shown, with the neighbouring steps prefetched (metadata and image
// bytes, so moving the slider by one step is instant). Images load from the artifact file
// route with the session cookie (img-src 'self'); tables become sortable grids; video and audio
// play inline (media_player.js, media-src 'self'); html, 3D and molecule files (docs/protocol.md
// §5.6) are download links (never shown inline).
import { filePath } from "./assets_paths.js";
import { el, message } from "./assets_dom.js";
import { fetchTableJson } from "./media_index.js";
import { nearestStepIndex, neighbourIndexes } from "./media_logic.js";
import { downloadFigure, playerFigure } from "./media_player.js";
import { mountTable } from "./media_table.js";

const PREFETCH_RADIUS = 2;

export class MediaKeyView {
  /**
   * @param {{ws: string, project: string}} where
   * @param {import("./media_index.js").ItemCache} cache
   * @param {{mediaKey: string, mediaType: string, itemCount: number}} key
   * @param {number[]} steps the key's logged steps, ascending
   * @param {boolean} truncated only the first steps were read
   */
  constructor(where, cache, key, steps, truncated) {
    this.where = where;
    this.cache = cache;
    this.key = key;
    this.steps = steps;
    this.token = 0;
    this.shownStep = /** @type {number | null} */ (null);
    this.stepLabel = el("span", { className: "media-step-label muted" });
    this.body = el("div", { className: "media-body" });
    this.element = el("section", { className: "media-key card",
      dataset: { mediaKey: key.mediaKey, mediaType: key.mediaType } }, [
      el("h3", {}, [el("span", { textContent: key.mediaKey }), " ", this.stepLabel]),
      this.body,
      truncated ? message("muted", `Only the first ${steps.length} steps are browsable.`) : null]);
  }

  /**
   * Show the logged step nearest to ``step`` (no-op when it is already shown).
   * @param {number} step
   * @returns {Promise<void>}
   */
  async show(step) {
    const index = nearestStepIndex(this.steps, step);
    if (index < 0) return;
    const shown = this.steps[index];
    this.stepLabel.textContent = `step ${shown}${shown === step ? "" : ` (nearest to ${step})`}`;
    if (shown === this.shownStep) return;
    const token = ++this.token;
    this.shownStep = shown;
    this.element.dataset.step = String(shown);
    this.element.dataset.state = "loading";
    try {
      const items = await this.cache.at(this.key.mediaKey, shown);
      if (token !== this.token) return;
      await this.render(items, shown);
      if (token === this.token) this.element.dataset.state = "shown";
    } catch (err) {
      if (token !== this.token) return;
      this.body.replaceChildren(message("error",
        `Could not load ${this.key.mediaKey} at step ${shown}: ${/** @type {Error} */ (err).message}`));
      this.element.dataset.state = "error";
    }
    this.prefetch(index);
  }

  /**
   * @param {any[]} items
   * @param {number} step
   */
  async render(items, step) {
    if (!items.length) {
      this.body.replaceChildren(message("empty", `Nothing logged at step ${step}.`));
      return;
    }
    if (this.key.mediaType === "table") {
      const item = items[0];
      const json = await fetchTableJson(filePath(this.where.ws, this.where.project,
        item.artifactId, item.artifactPath));
      const box = el("div", { className: "media-table-box", dataset: { step } });
      mountTable(box, json);
      this.body.replaceChildren(box);
      if (item.caption) this.body.append(el("p", { className: "caption", textContent: item.caption }));
      return;
    }
    const type = this.key.mediaType;
    if (type === "video" || type === "audio") {
      this.body.replaceChildren(...items.map((item) => playerFigure(this.where, type, item)));
      return;
    }
    if (type !== "image") {
      this.body.replaceChildren(...items.map((item) => downloadFigure(this.where, type, item)));
      return;
    }
    this.body.replaceChildren(...items.map((item) => this.figure(item)));
  }

  /**
   * @param {any} item
   * @returns {HTMLElement}
   */
  figure(item) {
    const alt = item.caption || `${this.key.mediaKey} at step ${item.step}`;
    const img = /** @type {HTMLImageElement} */ (el("img", {
      src: filePath(this.where.ws, this.where.project, item.artifactId, item.artifactPath, true),
      alt, className: "media-img", decoding: "async" }));
    if (item.width && item.height) {
      img.width = item.width;
      img.height = item.height;
    }
    const figure = el("figure", { className: "media-image", dataset: { step: item.step } },
      [img, item.caption ? el("figcaption", { textContent: item.caption }) : null]);
    img.addEventListener("error", () => {
      figure.replaceChildren(message("error",
        `The image at step ${item.step} could not be loaded (its content may no longer be stored).`));
    }, { once: true });
    return figure;
  }

  /**
   * Fetch the neighbouring steps' items, and warm the browser cache with their images.
   * @param {number} index
   */
  prefetch(index) {
    for (const i of neighbourIndexes(index, this.steps.length, PREFETCH_RADIUS)) {
      this.cache.at(this.key.mediaKey, this.steps[i]).then((items) => {
        if (this.key.mediaType !== "image") return;
        for (const item of items) {
          new Image().src = filePath(this.where.ws, this.where.project, item.artifactId,
            item.artifactPath, true);
        }
      }, () => {});
    }
  }
}
