"""The ``rundial-spool`` command handlers: ``handler(args, spool_root, output) -> exit code``."""

from __future__ import annotations

import argparse
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from rundial._spool.layout import CORRUPT_DIR, QUARANTINE_DIRS, quarantine_name
from rundial._spool.scan import BatchFile, hold_writer, scan
from rundial._spool.verify import BadBatch, load_batch
from rundial.cli._errors import EXIT_ERROR, EXIT_OK, CliError
from rundial.cli._output import Output
from rundial.cli._spool_report import human_bytes, spool_summary
from rundial_spool._compact import compact
from rundial_spool._export import export_spool
from rundial_spool._quarantine import describe, restore

__all__ = ["register"]


def register(add: Any, commands: Any) -> None:
    """Add every command; ``add(parent, name, help, handler)`` makes a parser with the globals."""
    inspect = add(commands, "inspect", "runs, batches, bytes, age and pending jobs", cmd_inspect)
    inspect.add_argument("--run", help="only this run id")
    verify = add(commands, "verify", "check every file's gzip CRC and structure", cmd_verify)
    verify.add_argument("--run", help="only this run id")
    verify.add_argument("--quarantine", action="store_true",
                        help="move bad files of idle writers to corrupt/")
    replay = add(commands, "replay", "upload the spool to a collector (like rundial sync)",
                 cmd_replay)
    replay.add_argument("--endpoint", required=True, help="collector URL the runs were logged to")
    replay.add_argument("--api-key", help="API key (default RUNDIAL_API_KEY or rundial login)")
    replay.add_argument("--run", help="only this run id")
    replay.add_argument("--dry-run", action="store_true", help="show what would be sent")
    refused = replay.add_mutually_exclusive_group()
    refused.add_argument("--into-existing", action="store_true",
                         help="send runs refused under their resume rule into the existing run")
    refused.add_argument("--as-new-run", action="store_true",
                         help="send runs refused under their resume rule as new runs")
    compact_p = add(commands, "compact", "merge small batch files of idle writers", cmd_compact)
    compact_p.add_argument("--dry-run", action="store_true")
    compact_p.add_argument("--small-bytes", type=int, default=64 * 1024,
                           help="merge files smaller than this (64 KiB)")
    quarantine = add(commands, "quarantine", "the rejected/ and corrupt/ folders")
    groups = quarantine.add_subparsers(title="commands", metavar="COMMAND")
    add(groups, "ls", "list quarantined batches and why", cmd_quarantine_ls)
    restore_p = add(groups, "restore", "move quarantined batches back for replay",
                    cmd_quarantine_restore)
    restore_p.add_argument("paths", nargs="*", help="files to restore (default: all)")
    restore_p.add_argument("--folder", choices=list(QUARANTINE_DIRS))
    restore_p.add_argument("--endpoint", help="for runs whose run.json is gone")
    restore_p.add_argument("--force", action="store_true", help="restore files that fail verify")
    export = add(commands, "export", "write the spool's records as JSON lines or CSV", cmd_export)
    export.add_argument("--format", dest="export_format", choices=["jsonl", "csv"],
                        default="jsonl")
    export.add_argument("--kind", choices=["metric", "log", "span", "eval"])
    export.add_argument("--run", help="only this run id")
    export.add_argument("--out", help="file to write (default: stdout)")


def _time(ms: int | None) -> str:
    return datetime.fromtimestamp(ms / 1000).isoformat(timespec="seconds") if ms else "-"


def cmd_inspect(args: argparse.Namespace, root: Path, output: Output) -> int:
    """Summarise the spool (directory listings only; no batch is opened)."""
    summary = spool_summary(scan(root, args.run))
    if output.json_mode:
        output.json({"ok": True, **summary})
        return EXIT_OK
    output.table(f"Spool {root}", ["run_id", "batches", "bytes", "oldest", "newest", "live",
                                   "registered", "final"],
                 [[r["runId"], r["batches"], human_bytes(r["bytes"]), _time(r["oldestMs"]),
                   _time(r["newestMs"]), r["liveWriters"], r["registered"],
                   (r["finalStatus"] or {}).get("status", "-")] for r in summary["runs"]])
    t, q = summary["totals"], summary["quarantine"]
    output.line(f"total: {t['runs']} runs, {t['batches']} batches, {human_bytes(t['bytes'])}, "
                f"{t['artifactJobs']} artifact jobs, {t['tmpFiles']} in-progress files; "
                f"quarantine: {q['rejected']} rejected, {q['corrupt']} corrupt")
    return EXIT_OK


def _quarantine_bad(batch: BatchFile, root: Path, error: str) -> bool:
    """Move a bad batch of an idle writer to corrupt/ (the SDK's naming); False if live."""
    with hold_writer(batch.path.parent) as held:
        if not held:
            return False
        folder = root / CORRUPT_DIR
        folder.mkdir(parents=True, exist_ok=True)
        name = quarantine_name(batch.run_id, batch.writer_id, batch.path.name)
        os.replace(batch.path, folder / name)
        (folder / f"{name}.reason").write_text(f"rundial-spool verify: {error}\n")
        return True


def cmd_verify(args: argparse.Namespace, root: Path, output: Output) -> int:
    """Decode every batch; report (and with ``--quarantine`` move) the bad ones; exit 1 if any."""
    spool = scan(root, args.run)
    bad, moved = [], 0
    for batch in spool.batches:
        try:
            load_batch(batch.path, batch.run_id)
        except BadBatch as exc:
            bad.append({"path": str(batch.path), "error": str(exc)})
            moved += bool(args.quarantine and _quarantine_bad(batch, root, str(exc)))
    tmp = [str(p) for r in spool.runs for w in r.writers for p in w.tmp_files]
    size = sum(b.size for b in spool.batches)
    result = {"ok": not bad, "spoolDir": str(root), "checked": len(spool.batches),
              "bytes": size, "bad": bad, "quarantined": moved, "inProgressFiles": tmp}
    if output.json_mode:
        output.json(result)
    else:
        for item in bad:
            output.line(f"BAD  {item['path']}: {item['error']}")
        output.line(f"checked {len(spool.batches)} files ({human_bytes(size)}): "
                    f"{len(bad)} bad, {moved} moved to corrupt/, {len(tmp)} in-progress "
                    "files ignored")
    return EXIT_ERROR if bad else EXIT_OK


def cmd_replay(args: argparse.Namespace, root: Path, output: Output) -> int:
    """Upload like ``rundial sync``: same code path, same idempotency; ``--dry-run`` sends nothing."""
    from rundial.cli._sync import replay_command

    return replay_command(args, root, output)


def cmd_compact(args: argparse.Namespace, root: Path, output: Output) -> int:
    """Merge small consecutive batches of idle writers."""
    report = compact(scan(root), dry_run=args.dry_run, small_bytes=args.small_bytes)
    result = {"ok": True, "dryRun": args.dry_run, **report.as_dict()}
    verb = "would merge" if args.dry_run else "merged"
    output.result(result, f"{verb} {report.files_merged} files into {report.files_written}; "
                          f"skipped {report.skipped_live_writers} live writers and "
                          f"{len(report.skipped_corrupt)} bad files")
    return EXIT_OK


def cmd_quarantine_ls(args: argparse.Namespace, root: Path, output: Output) -> int:
    """List rejected/ and corrupt/ with the recorded reasons."""
    items = [describe(q) for q in scan(root).quarantined]
    if output.json_mode:
        output.json({"ok": True, "spoolDir": str(root), "files": items})
        return EXIT_OK
    output.table(f"Quarantine of {root}", ["folder", "run_id", "seq", "bytes", "reason"],
                 [[i["folder"], i["runId"], i["seq"], i["bytes"], i["reason"]] for i in items])
    return EXIT_OK


def cmd_quarantine_restore(args: argparse.Namespace, root: Path, output: Output) -> int:
    """Move quarantined batches back; exit 1 when one was refused."""
    wanted = {str(Path(p).resolve()) for p in args.paths}
    items = [q for q in scan(root).quarantined
             if (not wanted or str(q.path.resolve()) in wanted)
             and (args.folder is None or q.folder == args.folder)]
    if wanted and len(items) < len(wanted):
        raise CliError("some paths are not quarantined files of this spool")
    restored, refused = [], []
    for item in items:
        try:
            restored.append(str(restore(root, item, args.endpoint, args.force)))
        except (ValueError, OSError) as exc:
            refused.append({"path": str(item.path), "error": str(exc)})
    output.result({"ok": not refused, "restored": restored, "refused": refused},
                  f"restored {len(restored)} files" + "".join(
                      f"\nrefused {r['path']}: {r['error']}" for r in refused))
    return EXIT_ERROR if refused else EXIT_OK


def cmd_export(args: argparse.Namespace, root: Path, output: Output) -> int:
    """Write the spool's records; bad files contribute nothing and make the exit code 1."""
    out = Path(args.out) if args.out and args.out != "-" else None
    count, skipped = export_spool(scan(root, args.run), args.export_format, args.kind, out)
    for item in skipped:
        output.warn(f"skipped {item['path']}: {item['error']}")
    if out is not None:
        output.result({"ok": not skipped, "out": str(out), "records": count, "skipped": skipped,
                       "format": args.export_format}, f"wrote {count} records to {out}")
    return EXIT_ERROR if skipped else EXIT_OK
