"""Wiring: the pre-service parts built once per app and kept on ``services.preservice``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from assistant.logging import get_logger, log_event
from assistant.preservice.delivery import WebInbox, WeChatChannel
from assistant.preservice.handbook import Handbook
from assistant.preservice.renewals import RenewalCatalogue
from assistant.preservice.scheduler import Clock, ReminderScheduler, system_clock
from assistant.preservice.store import BookingStore, FirmStore, FirmView, LicenceStore
from assistant.preservice.streets import StreetDirectory
from assistant.preservice.validation import today_local

log = get_logger(__name__)


@dataclass
class PreService:
    """Everything the pre-service feature needs.

    Attributes:
        services: the app's ``Services``.
        catalogue: the district's renewal list over the KB.
        streets: 金牛区's streets.
        handbook: the enterprise handbook.
        licences / bookings / firms: the stores.
        scheduler: the reminder scheduler.
        clock: ``() -> aware datetime`` (tests move it).
    """

    services: Any
    catalogue: RenewalCatalogue
    streets: StreetDirectory
    handbook: Handbook
    licences: LicenceStore
    bookings: BookingStore
    firms: FirmStore
    scheduler: ReminderScheduler
    clock: Clock = system_clock

    @property
    def db(self) -> Any:
        return self.services.db

    def today(self):
        """The local date by :attr:`clock`."""
        return today_local(self.clock())

    def sync_kb(self) -> None:
        """Point the catalogue at the KB once it has loaded, and at each new one (guides edited in the workbench
        swap ``services.kb``)."""
        kb = getattr(self.services, "kb", None)
        if kb is not None and self.catalogue.kb is not kb:
            first = self.catalogue.kb is None
            self.catalogue.kb = kb
            missing = self.catalogue.missing_matters() if first else []
            if missing:
                log_event(log, "preservice.catalogue.missing_matters", keys=",".join(missing))

    async def send_welcome(self, firm: FirmView, session_id: str) -> str:
        """Welcome a new firm in its conversation (WeChat when it is a WeChat one, else the web inbox).

        Returns:
            ``sent`` / ``pending`` (recorded on the firm).
        """
        street = self.streets.get(firm.street) if firm.street else None
        where = f"{street.service_centre}的金帮办专员" if street else "金牛区政务服务大厅的金帮办专员"
        text = (f"欢迎「{firm.name}」落户金牛！{where}会主动联系您，帮您对接惠企政策、办理开业后续事项。"
                "有问题随时问金小二，比如「有啥子扶持政策」「食品经营许可证到期了咋个延续」。")
        parts = [{"type": "text", "text": text}]
        res = await WeChatChannel(self.services).send(session_id, None, parts, "welcome")
        if res.status != "sent":
            res = await WebInbox(self.db).send(session_id, None, parts, "welcome")
        status = "sent" if res.status == "sent" else "pending"
        self.firms.set_welcome(firm.id, status)
        log_event(log, "preservice.firm.welcome", firm=firm.id, status=status)
        return status


def build_preservice(services: Any, clock: Clock | None = None) -> PreService:
    """Build the parts (no I/O beyond reading the YAML files)."""
    clock = clock or system_clock
    catalogue = RenewalCatalogue.load(getattr(services, "kb", None))
    scheduler = ReminderScheduler(services.db, catalogue, list(services.settings.reminder_offsets_days),
                                  channels={"wechat": WeChatChannel(services)}, clock=clock)
    return PreService(services=services, catalogue=catalogue, streets=StreetDirectory.load(),
                      handbook=Handbook.load(), licences=LicenceStore(services.db),
                      bookings=BookingStore(services.db), firms=FirmStore(services.db), scheduler=scheduler,
                      clock=clock)


def get_preservice(services: Any) -> PreService:
    """The app's :class:`PreService` (built on first use)."""
    if services.preservice is None:
        services.preservice = build_preservice(services)
    services.preservice.sync_kb()
    return services.preservice


def set_clock(services: Any, clock: Clock) -> PreService:
    """Replace the clock of the app's pre-service parts (tests)."""
    pre = get_preservice(services)
    pre.clock = clock
    pre.scheduler.clock = clock
    return pre
