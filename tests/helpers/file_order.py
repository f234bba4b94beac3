"""The order in which ``make test``'s pytest-xdist workers are handed the suite's files.

With ``--dist loadfile`` a file runs whole on one worker, and with ``--no-loadscope-reorder``
the files are handed out in collection order, each to the next worker that runs dry. A long
file handed out last keeps one worker busy while the other idles, so the long files go first:
those holding a test marked ``slow`` (the real-library comparisons, each ~30-60 s), then the
rest by their number of tests, most first (pytest-xdist's own default order).
"""

from __future__ import annotations

from collections import Counter
from typing import Protocol, TypeVar


class Marked(Protocol):
    """What the ordering reads of a test item (a ``pytest.Item``)."""

    @property
    def nodeid(self) -> str: ...

    def get_closest_marker(self, name: str) -> object | None: ...


ItemT = TypeVar("ItemT", bound=Marked)


def file_of(item: Marked) -> str:
    """The file part of ``item``'s node id: pytest-xdist's ``loadfile`` unit."""
    return item.nodeid.split("::", 1)[0]


def heaviest_files_first(items: list[ItemT]) -> list[ItemT]:
    """``items`` with each file's tests kept together and in their order, files holding a
    ``slow`` test first, then files by their number of tests (most first); ties keep the
    collection order."""
    counts = Counter(file_of(item) for item in items)
    slow = {file_of(item) for item in items if item.get_closest_marker("slow") is not None}
    first_index: dict[str, int] = {}
    for index, item in enumerate(items):
        first_index.setdefault(file_of(item), index)

    def key(item: ItemT) -> tuple[bool, int, int]:
        name = file_of(item)
        return name not in slow, -counts[name], first_index[name]

    return sorted(items, key=key)
