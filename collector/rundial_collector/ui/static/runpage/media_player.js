// A video or audio item of the Media tab: played inline by a `<video controls>` or
// `<audio controls>` element straight from the same-origin file route (`inline=true`, with the
// session cookie; the CSP's `media-src 'self'`), with its download link and caption. A GIF
// "video" (W&B logs them) is an animated image, so it is an `<img>`. Html, 3D and molecule
// items stay download links (`downloadFigure`): they are never shown in the page.
import { filePath } from "./assets_paths.js";
import { el, message } from "./assets_dom.js";
import { playerKind } from "./media_logic.js";

/**
 * The item's file name (the last part of its artifact path).
 * @param {any} item
 * @returns {string}
 */
function fileName(item) {
  return String(item.artifactPath).split("/").pop() || "file";
}

/**
 * A link that downloads the item's file (the route serves it as an attachment).
 * @param {{ws: string, project: string}} where
 * @param {string} mediaType
 * @param {any} item
 * @returns {HTMLElement}
 */
function downloadLink(where, mediaType, item) {
  const name = fileName(item);
  return el("a", { className: "media-download", download: name,
    href: filePath(where.ws, where.project, item.artifactId, item.artifactPath),
    textContent: `Download ${mediaType} (${name})` });
}

/**
 * A file item that is never shown in the page: its download link and caption.
 * @param {{ws: string, project: string}} where
 * @param {string} mediaType
 * @param {any} item
 * @returns {HTMLElement}
 */
export function downloadFigure(where, mediaType, item) {
  return el("figure", { className: "media-file", dataset: { step: item.step } },
    [downloadLink(where, mediaType, item),
      item.caption ? el("figcaption", { textContent: item.caption }) : null]);
}

/**
 * A video or audio item played inline, then its download link and caption. When the browser
 * cannot play the file (a format it lacks, content no longer stored) the player is replaced
 * by a message saying so; the download link stays.
 * @param {{ws: string, project: string}} where
 * @param {"video" | "audio"} mediaType
 * @param {any} item
 * @returns {HTMLElement}
 */
export function playerFigure(where, mediaType, item) {
  const kind = playerKind(mediaType, fileName(item));
  const src = filePath(where.ws, where.project, item.artifactId, item.artifactPath, true);
  const label = item.caption || `${mediaType} at step ${item.step}`;
  const player = kind === "image"
    ? el("img", { src, alt: label, className: "media-img media-player", decoding: "async" })
    : el(kind, { src, controls: true, preload: "metadata", className: "media-player",
      attrs: { "aria-label": label } });
  if (kind === "video") /** @type {HTMLVideoElement} */ (player).playsInline = true;
  const figure = el("figure", { className: `media-file media-${kind}`,
    dataset: { step: item.step } },
  [player, downloadLink(where, mediaType, item),
    item.caption ? el("figcaption", { textContent: item.caption }) : null]);
  player.addEventListener("error", () => {
    player.replaceWith(message("error", `This ${mediaType} cannot be played here (a format `
      + "this browser does not play, or content no longer stored); download it instead."));
  }, { once: true });
  return figure;
}
