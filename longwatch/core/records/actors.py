"""Who acts in a records action, and how the act goes into the custody ledger.

Every retention action (assigning a class, placing or releasing a hold,
proposing, approving or executing a disposition, deleting a package) runs on
behalf of a named person with a role, and is recorded as a custody-ledger
event naming that person. This module holds the :class:`Actor`, the roles
(:data:`ROLES`, :data:`RECORDS_MANAGER`), :func:`actor_from` (the one place the
acting user comes from), and the two helpers every records module uses to
record an act: :func:`ledger_append` and :func:`agents`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from longwatch.core import custody
from longwatch.errors import LongwatchError

if TYPE_CHECKING:
    from longwatch.core.archive import Archive

#: The roles this module knows. Real accounts come with the web UI; until then
#: the acting user is named on the command line or in the environment, and this
#: is the one place to wire accounts in later.
ROLES = ("operator", "records-manager", "admin")
RECORDS_MANAGER = "records-manager"


@dataclass(frozen=True)
class Actor:
    """The person on whose behalf a retention action runs."""

    name: str
    role: str


def actor_from(name: str | None = None, role: str | None = None, default_name: str = "") -> Actor:
    """``--as USER --role ROLE``, else LONGWATCH_USER / LONGWATCH_ROLE, else the OS user as an operator."""
    who = (name or os.environ.get("LONGWATCH_USER") or default_name or "").strip()
    what = (role or os.environ.get("LONGWATCH_ROLE") or "operator").strip()
    if not who:
        raise LongwatchError("H010")
    if what not in ROLES:
        raise LongwatchError("H011", role=what, roles=", ".join(ROLES))
    return Actor(who, what)


def ledger_append(archive: Archive, events: list[Any]) -> None:
    """Append ``events`` to the archive's custody ledger, 1,000 at a time."""
    for start in range(0, len(events), 1000):
        custody.Ledger.for_archive(archive).append(events[start:start + 1000])


def agents(actor: Actor, role: str = "implementer", approver: Actor | None = None) -> list[dict[str, str]]:
    """The PREMIS agents of an act: longwatch itself, the person acting in ``role``, and any approver."""
    found = [custody.software_agent(), custody.person_agent(actor.name, role)]
    if approver is not None:
        found.append(custody.person_agent(approver.name, "authorizer"))
    return found
