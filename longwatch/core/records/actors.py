"""Who acts in a records action, and how the act goes into the custody ledger.

Every retention action (assigning a class, placing or releasing a hold,
proposing, approving or executing a disposition, deleting a package) runs on
behalf of a named person with a role, and is recorded as a custody-ledger
event naming that person. This module holds the :class:`Actor`, the roles
(:data:`ROLES`, :data:`RECORDS_MANAGER`), :func:`actor_of` (an actor is always
an account: the command line and the web resolve it, core/accounts.py), and the
two helpers every records module uses to record an act: :func:`ledger_append`
and :func:`agents`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from longwatch.core import accounts, custody

if TYPE_CHECKING:
    from longwatch.core.archive import Archive

#: The accounts' roles (the web's and the command line's are the same, core/accounts.py).
ROLES = tuple(accounts.ROLES)
RECORDS_MANAGER = "records-manager"
ADMINISTRATOR = "administrator"


@dataclass(frozen=True)
class Actor:
    """The account on whose behalf a retention action runs: its user name (unique) and role."""

    name: str
    role: str


def actor_of(account: accounts.Account) -> Actor:
    """The actor of an authenticated account; account names are unique, so comparing names compares accounts."""
    return Actor(account.username, account.role)


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
