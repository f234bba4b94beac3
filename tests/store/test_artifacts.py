"""ArtifactStore contract: versions, numbering, aliases, retention, lineage, blobs' holders.

Runs on SQLite and on PostgreSQL (fixture ``store``); only the protocol is used.
"""

from __future__ import annotations

import pytest

from rundial_collector.store.artifacts_base import ArtifactFile, ArtifactUse
from rundial_collector.store.base import Store
from rundial_collector.store.control_base import StoreConflict, StoreNotFound
from tests.store.artifact_data import NOW_MS, OTHER_PROJECT, PROJECT, new_version, sha


async def number_of(store: Store, artifact_id: str) -> int | None:
    """The version number of a known artifact id."""
    found = await store.get_artifact_version(artifact_id)
    assert found is not None
    return found.version


async def publish(store: Store, name: str = "model", **kwargs: object) -> str:
    """Begin and finalize one version; its artifact id."""
    v = await store.begin_artifact_upload(new_version(name, **kwargs))  # type: ignore[arg-type]
    await store.finalize_artifact_version(v.artifact_id, NOW_MS)
    return v.artifact_id


async def test_begin_records_a_pending_version_with_its_files_in_order(store: Store) -> None:
    files = (ArtifactFile("z.txt", 3, sha("z")), ArtifactFile("a.txt", 5, sha("a"), "text/plain"),
             ArtifactFile("dup.txt", 3, sha("z")))
    new = new_version(files=files, aliases=("best",), metadata={"lr": 0.1, "nested": [1, "x"]},
                      artifact_type="dataset", deduplicated_bytes=7)
    began = await store.begin_artifact_upload(new)
    loaded = await store.get_artifact_version(new.artifact_id)
    assert began == loaded
    assert loaded is not None
    assert (loaded.state, loaded.version, loaded.aliases) == ("pending", None, ())
    assert loaded.files == files
    assert loaded.requested_aliases == ("best",)
    assert loaded.metadata == {"lr": 0.1, "nested": [1, "x"]}
    assert (loaded.size_bytes, loaded.content_bytes, loaded.deduplicated_bytes) == (11, 8, 7)
    assert await store.get_artifact_version("nope") is None


async def test_versions_count_up_per_project_and_name_and_latest_moves(store: Store) -> None:
    ids = [await publish(store, "model") for _ in range(3)]
    other_name = await publish(store, "data")
    other_project = await publish(store, "model", project_id=OTHER_PROJECT)
    assert [await number_of(store, i) for i in ids] == [1, 2, 3]
    assert await number_of(store, other_name) == 1
    assert await number_of(store, other_project) == 1
    latest = await store.resolve_artifact(PROJECT, "model", "latest", None)
    assert latest is not None and latest.artifact_id == ids[-1] and latest.aliases == ("latest",)
    first = await store.get_artifact_version(ids[0])
    assert first is not None and first.aliases == ()


async def test_requested_aliases_move_to_the_version_that_last_asked(store: Store) -> None:
    a = await publish(store, aliases=("best", "prod"))
    b = await publish(store, aliases=("best",))
    va, vb = await store.get_artifact_version(a), await store.get_artifact_version(b)
    assert va is not None and vb is not None
    assert va.aliases == ("prod",)
    assert vb.aliases == ("best", "latest")
    best = await store.resolve_artifact(PROJECT, "model", "best", None)
    assert best is not None and best.artifact_id == b


async def test_finalize_is_idempotent_and_rejects_unknown_or_expired(store: Store) -> None:
    v = await store.begin_artifact_upload(new_version())
    first = await store.finalize_artifact_version(v.artifact_id, NOW_MS)
    again = await store.finalize_artifact_version(v.artifact_id, NOW_MS + 5)
    assert not first.already_final and again.already_final
    assert again.version == first.version and first.version.finalized_ms == NOW_MS
    with pytest.raises(StoreNotFound):
        await store.finalize_artifact_version("missing", NOW_MS)
    stale = await store.begin_artifact_upload(new_version(expires_ms=NOW_MS - 1))
    await store.expire_artifact_uploads(NOW_MS)
    with pytest.raises(StoreConflict):
        await store.finalize_artifact_version(stale.artifact_id, NOW_MS)


async def test_an_idempotency_key_reuses_and_refreshes_the_pending_row(store: Store) -> None:
    first = await store.begin_artifact_upload(new_version(idempotency_key="k1"))
    files = (ArtifactFile("b.bin", 9, sha("b")),)
    again = await store.begin_artifact_upload(
        new_version(idempotency_key="k1", files=files, metadata={"second": True}))
    assert (again.artifact_id, again.upload_id) == (first.artifact_id, first.upload_id)
    assert again.files == files and again.metadata == {"second": True}
    other = await store.begin_artifact_upload(new_version(idempotency_key="k1",
                                                          project_id=OTHER_PROJECT))
    assert other.artifact_id != first.artifact_id  # keys are per project
    await store.finalize_artifact_version(first.artifact_id, NOW_MS)
    ready = await store.begin_artifact_upload(new_version(idempotency_key="k1"))
    assert ready.artifact_id == first.artifact_id and ready.state == "ready"
    await store.begin_artifact_upload(new_version(idempotency_key="k2", expires_ms=NOW_MS - 1))
    await store.expire_artifact_uploads(NOW_MS)
    with pytest.raises(StoreConflict):
        await store.begin_artifact_upload(new_version(idempotency_key="k2"))


async def test_resolve_by_version_number_and_alias(store: Store) -> None:
    ids = [await publish(store) for _ in range(2)]
    by_number = await store.resolve_artifact(PROJECT, "model", None, 1)
    assert by_number is not None and by_number.artifact_id == ids[0]
    assert by_number.files and by_number.files[0].path == "weights.bin"
    assert await store.resolve_artifact(PROJECT, "model", None, 3) is None
    assert await store.resolve_artifact(PROJECT, "model", "nope", None) is None
    assert await store.resolve_artifact(OTHER_PROJECT, "model", "latest", None) is None
    pending = await store.begin_artifact_upload(new_version("fresh"))
    assert await store.resolve_artifact(PROJECT, "fresh", "latest", None) is None
    assert pending.state == "pending"


async def test_retention_keeps_the_last_n_of_the_run_and_spares_aliased(store: Store) -> None:
    shared = ArtifactFile("shared.bin", 10, sha("shared"))
    ids = []
    for i in range(4):
        own = ArtifactFile("own.bin", 20 + i, sha(f"own{i}"))
        aliases = ("golden",) if i == 0 else ()
        new = new_version("ckpt", keep_last=2, files=(shared, own), aliases=aliases)
        ids.append((await store.begin_artifact_upload(new)).artifact_id)
        outcome = await store.finalize_artifact_version(ids[-1], NOW_MS)
    # v1 is aliased (golden), so v2 is the one deleted when v4 arrives.
    assert outcome.deleted_versions == (2,)
    assert outcome.orphaned_blobs == (sha("own1"),)
    listed = await store.list_artifact_versions(PROJECT, "ckpt", include_deleted=False)
    assert [v.version for v in listed] == [1, 3, 4]
    with_deleted = await store.list_artifact_versions(PROJECT, "ckpt", include_deleted=True)
    assert [(v.version, v.state) for v in with_deleted] == [
        (1, "ready"), (2, "deleted"), (3, "ready"), (4, "ready")]
    assert with_deleted[1].files == ()
    await publish(store, "ckpt", run_id="run-2", keep_last=1)  # another run: its own window
    assert len(await store.list_artifact_versions(PROJECT, "ckpt", False)) == 4


async def test_checkpoints_keep_five_by_default(store: Store) -> None:
    for _ in range(6):
        await publish(store, "c", artifact_type="checkpoint")
    kept = await store.list_artifact_versions(PROJECT, "c", include_deleted=False)
    assert [v.version for v in kept] == [2, 3, 4, 5, 6]


async def test_uses_record_lineage_and_consumers(store: Store) -> None:
    produced = await publish(store, run_id="producer")
    first = ArtifactUse("consumer", produced, "model", 1, "model:latest", NOW_MS, NOW_MS, 1)
    await store.record_artifact_use(first, PROJECT)
    await store.record_artifact_use(
        ArtifactUse("consumer", produced, "model", 1, "model:v1", NOW_MS + 9, NOW_MS + 9, 1),
        PROJECT)
    used, made = await store.artifact_lineage(PROJECT, "consumer")
    assert used == [ArtifactUse("consumer", produced, "model", 1, "model:v1", NOW_MS,
                                NOW_MS + 9, 2)]
    assert made == []
    used_p, made_p = await store.artifact_lineage(PROJECT, "producer")
    assert used_p == [] and [v.artifact_id for v in made_p] == [produced]
    assert await store.artifact_consumers(produced) == used
    assert await store.artifact_lineage(OTHER_PROJECT, "consumer") == ([], [])


async def test_expiry_releases_only_blobs_nobody_else_lists(store: Store) -> None:
    keep = ArtifactFile("k", 1, sha("kept"))
    gone = ArtifactFile("g", 2, sha("gone"))
    await publish(store, files=(keep,))
    stale = await store.begin_artifact_upload(
        new_version("other", files=(keep, gone), expires_ms=NOW_MS - 1))
    fresh = await store.begin_artifact_upload(new_version("fresh", expires_ms=NOW_MS + 10))
    assert sorted(await store.unreferenced_blobs([sha("kept"), sha("gone"), sha("x")])) == [
        sha("x")]
    assert await store.expire_artifact_uploads(NOW_MS) == [sha("gone")]
    expired = await store.get_artifact_version(stale.artifact_id)
    assert expired is not None and expired.state == "expired" and expired.files == ()
    still = await store.get_artifact_version(fresh.artifact_id)
    assert still is not None and still.state == "pending"
    assert await store.unreferenced_blobs([sha("gone"), sha("kept")]) == [sha("gone")]
    assert await store.expire_artifact_uploads(NOW_MS) == []


async def test_blob_holders_are_per_project_and_forgotten_together(store: Store) -> None:
    await store.add_blob_holder(PROJECT, sha("a"), 10)
    await store.add_blob_holder(PROJECT, sha("a"), 10)  # idempotent
    await store.add_blob_holder(PROJECT, sha("b"), 1 << 40)
    await store.add_blob_holder(OTHER_PROJECT, sha("a"), 10)
    assert await store.held_blobs(PROJECT, [sha("a"), sha("b"), sha("c"), sha("a")]) == {
        sha("a"): 10, sha("b"): 1 << 40}
    assert await store.held_blobs(OTHER_PROJECT, [sha("b")]) == {}
    await store.forget_blob_holders(sha("a"))
    assert await store.held_blobs(PROJECT, [sha("a"), sha("b")]) == {sha("b"): 1 << 40}
    assert await store.held_blobs(OTHER_PROJECT, [sha("a")]) == {}
    assert await store.held_blobs(PROJECT, []) == {}


async def test_a_sweep_lock_is_granted_when_nobody_sweeps(store: Store) -> None:
    async with store.sweep_lock() as mine:
        assert mine is True
    async with store.sweep_lock() as again:  # released on exit
        assert again is True
