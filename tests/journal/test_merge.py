"""Every process's journal as one: this process's entries with the others', by time, less what was cleared."""

from __future__ import annotations

from llmreplay.journal import Filter, Journal
from llmreplay.journal.merge import EVERY_TEST, Shared, clear, find, get
from llmreplay.journal.view import as_json
from tests.journal.entries import T0, entry


def other(n: int, **kw: object) -> tuple[float, dict[str, object]]:
    e = entry(n, **kw)  # type: ignore[arg-type]
    return e.time, as_json(e)


def ids(rows: list[dict[str, object]]) -> list[int]:
    return [int(str(d["id"])[4:], 16) for d in rows]


def local(*ns: int, **kw: object) -> Journal:
    j = Journal(100, 1024)
    for n in ns:
        j.add(entry(n, **kw))  # type: ignore[arg-type]
    return j


def test_alone_it_is_this_process_journal() -> None:
    assert ids(find(local(1, 2), Filter(), None)) == [1, 2]
    assert get(local(1), entry(1).id, None) is not None and get(local(1), "req_x", None) is None


def test_merged_by_arrival_time_with_filters_and_the_limit_over_the_whole() -> None:
    j = local(1, 4, 6, test_id="a")
    shared = Shared([other(2, test_id="a"), other(3, test_id="b"), other(5, test_id="a")])
    assert ids(find(j, Filter(), shared)) == [1, 2, 3, 4, 5, 6]
    assert ids(find(j, Filter(test_id="a"), shared)) == [1, 2, 4, 5, 6]
    assert ids(find(j, Filter(test_id="a", limit=3), shared)) == [4, 5, 6]
    assert ids(find(j, Filter(since=T0 + 3, limit=2), shared)) == [5, 6]
    assert get(j, entry(5).id, shared) == shared.others[2][1]


def test_a_clear_anywhere_hides_what_arrived_before_it_everywhere() -> None:
    j = local(1, 2, test_id="a")
    j.add(entry(3, test_id="b"))
    j.add(entry(9, test_id="a"))
    shared = Shared([other(4, test_id="a"), other(5, test_id="b"), other(10, test_id="b")], {"a": T0 + 6})
    assert ids(find(j, Filter(), shared)) == [3, 5, 9, 10]
    assert get(j, entry(1).id, shared) is None and get(j, entry(4).id, shared) is None
    everything = Shared(shared.others, {EVERY_TEST: T0 + 9.5})
    assert ids(find(j, Filter(), everything)) == [10]
    assert not Shared().hidden(T0, None)


def test_a_clear_counts_what_it_takes_out_of_view_here_and_there() -> None:
    j = local(1, 2, test_id="a")
    j.add(entry(3, test_id="b"))
    shared = Shared([other(4, test_id="a"), other(5, test_id="b"), other(6, test_id="a")], {"a": T0 + 4.5})
    assert clear(j, "a", shared) == 1  # 1 and 2 (here) and 4 (there) were already out of view
    assert [e.test_id for e in j.select()] == ["b"]
    assert clear(j, None, shared) == 3  # 3 here; 5 and 6 there (6 arrived after a's mark)
    assert len(j) == 0
    assert clear(local(1, 2), None, None) == 2
