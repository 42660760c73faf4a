"""The last administrator stays, even when two administrators are demoted at once (issue 23).

Found by reading ``core.accounts`` while attacking ``/admin/users``: the count of the other administrators and
the change are in one transaction, but two transactions demoting two different administrators each counted the
other one. The check is widened here (each waits after counting until the other has counted too, or 3 s), so
both back ends are tried on the race they would lose.
"""

from __future__ import annotations

import threading

from longwatch.core import accounts
from longwatch.errors import LongwatchError

PASSWORD = "correct horse battery"


def test_two_administrators_demoted_at_once_leave_one(fresh_catalog, monkeypatch) -> None:
    accounts.set_hash_parameters(time_cost=1, memory_kib=1024)
    for name in ("ada", "bea"):
        accounts.add_user(fresh_catalog, name, PASSWORD, "administrator")
    counted = threading.Barrier(2)
    keep = accounts._keep_an_administrator

    def slow_keep(*args, **kwargs):
        keep(*args, **kwargs)
        try:
            counted.wait(3)  # both counted before either commits: the race, made certain
        except threading.BrokenBarrierError:
            pass

    monkeypatch.setattr(accounts, "_keep_an_administrator", slow_keep)
    outcomes: dict[str, str] = {}

    def demote(name: str, how: str) -> None:
        try:
            if how == "role":
                accounts.set_role(fresh_catalog, name, "operator", by=name)
            else:
                accounts.set_active(fresh_catalog, name, False, by=name)
            outcomes[name] = "done"
        except LongwatchError as exc:
            outcomes[name] = exc.code

    threads = [threading.Thread(target=demote, args=("ada", "role")),
               threading.Thread(target=demote, args=("bea", "active"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    admins = [u.username for u in accounts.users(fresh_catalog) if u.role == "administrator" and u.active]
    assert len(admins) == 1, (admins, outcomes)
    assert sorted(outcomes.values()) == ["W080", "done"], outcomes
