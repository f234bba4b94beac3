// How the Media tab shows a video or audio item (runpage/media_logic.js playerKind).
import { test } from "node:test";
import assert from "node:assert/strict";
import { playerKind } from "../../collector/rundial_collector/ui/static/runpage/media_logic.js";

test("audio plays in <audio>, videos in <video>, a GIF video is an image", () => {
  assert.equal(playerKind("audio", "audio.wav"), "audio");
  assert.equal(playerKind("audio", "clip.gif"), "audio");
  assert.equal(playerKind("video", "movie.webm"), "video");
  assert.equal(playerKind("video", "movie.MP4"), "video");
  assert.equal(playerKind("video", "clip.gif"), "image");
  assert.equal(playerKind("video", "CLIP.GIF"), "image");
  assert.equal(playerKind("video", "gif"), "video");
});
