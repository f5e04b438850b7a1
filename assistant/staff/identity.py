"""Who is acting on a staff endpoint.

A helper (金帮办专员) works at one level — the district hall, a street's service centre or a community's
service station — in one place (which street or community), as an ``agent`` or an ``admin``.
Automation that presents the service credential (``JXE_STAFF_TOKEN``) acts as :data:`SERVICE_USER`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Level = Literal["district", "street", "community"]
Role = Literal["agent", "admin"]

LEVELS: tuple[str, ...] = ("district", "street", "community")
ROLES: tuple[str, ...] = ("agent", "admin")


@dataclass(frozen=True)
class StaffUser:
    """An authenticated staff member (or the service credential).

    Attributes:
        username: the login name (``service`` for the service credential).
        level: ``district`` / ``street`` / ``community``.
        place: the street or community the helper serves (``None`` at district level).
        role: ``agent`` or ``admin``.
    """

    username: str
    level: Level
    place: str | None
    role: Role

    @property
    def is_admin(self) -> bool:
        """Whether this user may administer (accounts, guidebook, learned examples)."""
        return self.role == "admin"


#: The identity of a request that presents the service credential ``JXE_STAFF_TOKEN``.
SERVICE_USER = StaffUser(username="service", level="district", place=None, role="admin")
