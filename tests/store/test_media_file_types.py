"""Video, audio, HTML, 3-D object and molecule media items (a protocol extension, docs/protocol.md §5.6) are stored
and read back with their type, on both stores."""

from __future__ import annotations

from rundial_collector.store.artifacts_base import MediaQuery
from rundial_collector.store.base import Store
from tests.store.artifact_data import PROJECT, media

FILE_TYPES = {"clip": ("video", "clip.mp4"), "voice": ("audio", "audio.wav"),
              "cloud": ("object3d", "points.pts.json"), "mol": ("molecule", "water.pdb"),
              "page": ("html", "page.html")}


async def test_file_media_items_keep_their_type(store: Store) -> None:
    items = [media("r", key, step, path=path, media_type=kind, width=None, height=None,
                   caption=f"{kind} {step}", metadata={"rundial.kind": f"wandb_{kind}"})
             for key, (kind, path) in FILE_TYPES.items() for step in (0, 4)]
    assert await store.add_media_items(items) == 10
    stored = await store.query_media(MediaQuery(PROJECT, "r"))
    assert sorted((m.media_key, m.media_type, m.step, m.artifact_path, m.caption, m.width)
                  for m in stored) == sorted(
        (key, kind, step, path, f"{kind} {step}", None)
        for key, (kind, path) in FILE_TYPES.items() for step in (0, 4))
    assert {m.media_key: m.metadata for m in stored}["voice"] == {"rundial.kind": "wandb_audio"}
    keys = await store.media_keys(PROJECT, "r", "", 10)
    assert [(k.media_key, k.media_type, k.item_count) for k in keys] == [
        ("clip", "video", 2), ("cloud", "object3d", 2), ("mol", "molecule", 2), ("page", "html", 2),
        ("voice", "audio", 2)]
