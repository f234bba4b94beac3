"""Media manifests (ArtifactStore) and the UI's asset reads (AssetReadStore), on both stores."""

from __future__ import annotations

from rundial_collector.store.artifacts_base import ArtifactFile, ArtifactUse, MediaQuery
from rundial_collector.store.base import Store
from rundial_collector.store.control_base import RunStart
from tests.store.artifact_data import NOW_MS, PROJECT, media, new_version, sha


async def publish(store: Store, name: str, run_id: str = "run-1", **kwargs: object) -> str:
    v = await store.begin_artifact_upload(new_version(name, run_id=run_id,
                                                      **kwargs))  # type: ignore[arg-type]
    await store.finalize_artifact_version(v.artifact_id, NOW_MS)
    return v.artifact_id


async def test_media_items_are_stored_once_and_paged_by_id(store: Store) -> None:
    items = [media("r", "img", step) for step in range(5)]
    assert await store.add_media_items(items + [items[0]]) == 5
    assert await store.add_media_items(items[:2]) == 0  # repeats are ignored
    assert await store.add_media_items([]) == 0
    page = await store.query_media(MediaQuery(PROJECT, "r", limit=3))
    assert [m.step for m in page] == [0, 1, 2]
    assert page[0].metadata == {"step": 0} and (page[0].width, page[0].height) == (4, 3)
    assert all(m.item_id is not None for m in page)
    rest = await store.query_media(MediaQuery(PROJECT, "r", after_id=page[-1].item_id or 0))
    assert [m.step for m in rest] == [3, 4]
    stored = page + rest
    assert [m.artifact_sha256 for m in stored] == [i.artifact_sha256 for i in items]


async def test_media_query_filters_by_key_and_step_range(store: Store) -> None:
    await store.add_media_items(
        [media("r", "a", s) for s in range(4)] + [media("r", "b", s) for s in range(4)]
        + [media("other", "a", 1)]
        + [media("r", "t", 2, media_type="table", table_rows=10, table_columns=3,
                 caption="a table")])
    found = await store.query_media(MediaQuery(PROJECT, "r", media_key="a", min_step=1,
                                               max_step=2))
    assert [(m.media_key, m.step) for m in found] == [("a", 1), ("a", 2)]
    (table,) = await store.query_media(MediaQuery(PROJECT, "r", media_key="t"))
    assert (table.media_type, table.table_rows, table.table_columns, table.caption) == (
        "table", 10, 3, "a table")
    assert await store.query_media(MediaQuery("elsewhere", "r")) == []


async def test_media_keys_and_steps_sort_bytewise_and_page(store: Store) -> None:
    await store.add_media_items(
        [media("r", "b", s) for s in (3, 1, 3)]
        + [media("r", "b", 3, path="second.png"), media("r", "B", 7), media("r", "a", 2)])
    keys = await store.media_keys(PROJECT, "r", "", 10)
    assert [(k.media_key, k.item_count, k.step_count, k.min_step, k.max_step)
            for k in keys] == [("B", 1, 1, 7, 7), ("a", 1, 1, 2, 2), ("b", 3, 2, 1, 3)]
    assert [k.media_key for k in await store.media_keys(PROJECT, "r", "B", 1)] == ["a"]
    assert await store.media_steps(PROJECT, "r", "b", 0, 10) == [1, 3]
    assert await store.media_steps(PROJECT, "r", "b", 1, 10) == [3]
    assert await store.media_steps(PROJECT, "r", "b", -1, 1) == [1]


async def test_run_assets_lists_produced_and_used_within_limits(store: Store) -> None:
    made = [await publish(store, name) for name in ("b-model", "B-data", "a-model")]
    await publish(store, "media-art", artifact_type="media")
    mine = await publish(store, "input", run_id="upstream")
    for consumer in ("run-1", "c2", "c3"):
        await store.record_artifact_use(
            ArtifactUse(consumer, mine, "input", 1, "input:latest", NOW_MS, NOW_MS, 1), PROJECT)
    assets = await store.run_assets(PROJECT, "run-1", limit=2, consumer_limit=2,
                                    exclude_types=("media",))
    assert [s.version.name for s in assets.produced] == ["B-data", "a-model"]
    assert assets.produced_more and not assets.used_more
    assert assets.produced[0].version.files == () and assets.produced[0].file_count == 1
    ((use, summary),) = assets.used
    assert (use.run_id, use.artifact_id) == ("run-1", mine)
    assert summary.consumer_count == 3 and len(summary.consumers) == 2
    everything = await store.run_assets(PROJECT, "run-1", limit=10, consumer_limit=0)
    assert {s.version.artifact_id for s in everything.produced} >= set(made)
    assert len(everything.produced) == 4 and not everything.produced_more
    assert (await store.run_assets(PROJECT, "nobody", 5, 5)).produced == ()


async def test_artifact_summary_counts_files_and_bytes(store: Store) -> None:
    files = tuple(ArtifactFile(f"f{i}.bin", 10 * i, sha(f"f{i}")) for i in range(1, 4))
    art = await publish(store, "m", files=files, aliases=("best",))
    summary = await store.artifact_summary(art)
    assert summary is not None
    assert (summary.file_count, summary.size_bytes, summary.consumer_count) == (3, 60, 0)
    assert summary.version.aliases == ("best", "latest") and summary.version.version == 1
    assert await store.artifact_summary("missing") is None


async def test_files_are_paged_by_ordinal_and_found_by_path(store: Store) -> None:
    files = tuple(ArtifactFile(f"dir/{c}.txt", i, sha(c), "text/plain")
                  for i, c in enumerate("zyxwv"))
    art = await publish(store, "many", files=files)
    first = await store.artifact_file_page(art, -1, 2)
    assert first.total == 5 and [o for o, _ in first.files] == [0, 1]
    assert [f for _, f in first.files] == list(files[:2])
    tail = await store.artifact_file_page(art, 1, 10)
    assert [f.path for _, f in tail.files] == ["dir/x.txt", "dir/w.txt", "dir/v.txt"]
    assert await store.artifact_file(art, "dir/y.txt") == files[1]
    assert await store.artifact_file(art, "dir/none.txt") is None
    assert (await store.artifact_file_page("missing", -1, 5)).total == 0


async def test_run_labels_and_run_project_of_known_runs(store: Store) -> None:
    ws = await store.create_workspace("ws", "WS")
    project = await store.create_project(ws.workspace_id, "p", "P")
    for run_id, name in (("r1", "first"), ("r2", None)):
        await store.start_run(RunStart(run_id, True, project.project_id, "training", "never",
                                       name=name), NOW_MS)
    labels = await store.run_labels(["r2", "r1", "ghost", "r1"])
    assert sorted(labels) == ["r1", "r2"]
    assert (labels["r1"].name, labels["r2"].name) == ("first", None)
    assert labels["r1"].status == "running"  # as stored (reads may derive "lost" from it)
    assert await store.run_labels([]) == {}
    assert await store.run_project_id("r1") == project.project_id
    assert await store.run_project_id("ghost") is None
