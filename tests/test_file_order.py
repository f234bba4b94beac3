"""The order ``make test`` hands the suite's files to its xdist workers
(tests/helpers/file_order.py): files with a ``slow`` test first, then by number of tests, each
file whole and in its own order."""

from __future__ import annotations

from dataclasses import dataclass

from tests.helpers.file_order import heaviest_files_first


@dataclass(frozen=True)
class FakeItem:
    nodeid: str
    slow: bool = False

    def get_closest_marker(self, name: str) -> object | None:
        return "slow" if name == "slow" and self.slow else None


def _items(*spec: str) -> list[FakeItem]:
    """``"a.py::t1"`` items; a trailing ``!`` marks one slow."""
    return [FakeItem(s.rstrip("!"), s.endswith("!")) for s in spec]


def test_files_with_a_slow_test_go_first_then_by_test_count() -> None:
    items = _items("a.py::t1", "b.py::t1", "b.py::t2", "c.py::t1", "c.py::t2!", "d.py::t1",
                   "d.py::t2", "d.py::t3", "e.py::t1!")
    ordered = [item.nodeid for item in heaviest_files_first(items)]
    assert ordered == ["c.py::t1", "c.py::t2", "e.py::t1", "d.py::t1", "d.py::t2", "d.py::t3",
                       "b.py::t1", "b.py::t2", "a.py::t1"]


def test_ties_keep_the_collection_order_and_files_stay_whole() -> None:
    items = _items("z.py::t1", "z.py::C::t2", "y.py::t1", "y.py::t2[x]", "x.py::t1")
    ordered = [item.nodeid for item in heaviest_files_first(items)]
    assert ordered == ["z.py::t1", "z.py::C::t2", "y.py::t1", "y.py::t2[x]", "x.py::t1"]
