"""The public CCTV notice (PIPA art. 25(4)): the operating policy anyone may read without signing in.

Administrators write drafts; publishing freezes a version. Every published version is kept, so
the body can show what the notice said on any date. The retention periods are never typed twice:
:func:`retention_summary` reads the archive's active schedule (core/records/schedules.py), the page shows
it beside the current version, and a new draft starts from it, so a published version keeps the
schedule as it stood when it was published.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from longwatch import clock
from longwatch.core.catalog.models import Camera, NoticeVersion, Purpose
from longwatch.core.catalog.reference import DEFAULT_PURPOSES
from longwatch.core.records import schedules
from longwatch.errors import LongwatchError
from longwatch.i18n import N_, current_language, translations

if TYPE_CHECKING:
    from longwatch.core.archive import Archive

TEMPLATE_KO = """# 영상정보처리기기 운영·관리 방침

{organization}은(는) 「개인정보 보호법」 제25조에 따라 다음과 같이 영상정보처리기기를 운영합니다.

## 설치 목적
범죄 예방, 시설 안전, 화재 예방, 교통 단속 및 교통정보 수집

## 보존기간
{retention}

## 열람 등 청구 방법
본인이 촬영된 영상의 열람·존재확인을 청구하려면 신분증을 지참하여 방문하거나 청구서를 제출하십시오.
청구를 받은 날부터 10일 이내에 조치하며, 다른 사람은 모자이크(마스킹) 처리 후 제공합니다.
"""


def draft(archive: Archive, title: str, body: str, author: str, language: str = "ko") -> NoticeVersion:
    """A new version (unpublished) after the highest number so far."""
    with archive.catalog.session() as s:
        top = s.scalar(select(func.max(NoticeVersion.version))) or 0
        row = NoticeVersion(version=top + 1, title=title.strip(), body=body, language=language, author=author,
                            created_at=clock.now(), published_at=None)
        s.add(row)
    return row


def publish(archive: Archive, version: int) -> NoticeVersion:
    """Freeze a version as the public one. Publishing never edits an older version."""
    with archive.catalog.session() as s:
        row = s.get(NoticeVersion, version)
        if row is None:
            raise LongwatchError("U008")
        if row.published_at is None:
            row.published_at = clock.now()
    return row


def current(archive: Archive) -> NoticeVersion | None:
    with archive.catalog.session() as s:
        return s.scalars(select(NoticeVersion).where(NoticeVersion.published_at.is_not(None))
                         .order_by(NoticeVersion.published_at.desc(), NoticeVersion.version.desc())).first()


def versions(archive: Archive) -> list[NoticeVersion]:
    with archive.catalog.session() as s:
        return list(s.scalars(select(NoticeVersion).order_by(NoticeVersion.version.desc())).all())


def get(archive: Archive, version: int) -> NoticeVersion:
    with archive.catalog.session() as s:
        row = s.get(NoticeVersion, version)
    if row is None or row.published_at is None:
        raise LongwatchError("U008")
    return row


def cameras_by_zone(archive: Archive, language: str | None = None) -> list[tuple[str, int, str]]:
    """What is recorded where: (zone, cameras, purposes) from the camera registry.

    Purposes are named, not coded ("교통" to a Korean reader, never "traffic"): a built-in purpose whose
    name nobody changed is translated, a purpose the archive named itself keeps its name."""
    t = translations(language or current_language()).gettext
    with archive.catalog.session() as s:
        rows = s.execute(select(Camera.zone, Camera.purpose)).all()
        names = {p.code: p.name for p in s.scalars(select(Purpose))}

    def named(code: str) -> str:
        name = names.get(code) or code
        return t(name) if name == DEFAULT_PURPOSES.get(code) else name

    zones: dict[str, tuple[int, set[str]]] = {}
    for zone, purpose in rows:
        n, purposes = zones.get(zone or "-", (0, set()))
        zones[zone or "-"] = (n + 1, purposes | ({named(purpose)} if purpose else set()))
    return [(z, n, ", ".join(sorted(p))) for z, (n, p) in sorted(zones.items())]


#: how the schedule's words read in a sentence (schema: trigger and action enums)
TRIGGERS = {"capture": N_("the recording"), "event": N_("the event"), "case-closed": N_("the closing of the case")}
ACTIONS = {"destroy": N_("destroyed"), "review": N_("reviewed for destruction or longer keeping"),
           "transfer": N_("transferred to a records archive")}
UNITS = {"Y": (N_("1 year"), N_("{n} years")), "M": (N_("1 month"), N_("{n} months")),
         "D": (N_("1 day"), N_("{n} days"))}
SENTENCE = N_("{name}: kept {period} from {trigger}, then {action}. Legal basis: {basis}")
PERMANENT = N_("{name}: kept permanently, {action}. Legal basis: {basis}")
SAMPLE = N_("Planning sample: when footage is destroyed, minutes {first} to {last} of every hour of {cameras} "
            "are kept first as {name} ({period}), for long-term planning studies.")
ALL_CAMERAS = N_("every camera")
PERMANENT_WORD = N_("permanently")
HOLDS = N_("Footage under a legal hold (a request, an inquiry, a court order) is kept until the hold is released, "
           "whatever its period.")


def period_text(period: str, language: str) -> str:
    """``P1Y6M`` as "1 year 6 months" or "1년 6개월"."""
    t = translations(language).gettext
    match = schedules.PERIOD.match(period)
    if match is None:
        return period
    parts = []
    for unit, value in zip("YMD", match.groups(), strict=True):
        if value and int(value):
            one, many = UNITS[unit]
            parts.append(t(one) if int(value) == 1 else t(many).format(n=int(value)))
    return " ".join(parts) or period


def retention_summary(archive: Archive, language: str | None = None) -> str:
    """The active retention schedule in words, one line per record class (Korean or English), with
    the rule that holds beat every period: what PIPA art. 25 expects a notice to state."""
    lang = language or current_language()
    t = translations(lang).gettext
    schedule = schedules.active_schedule(archive)
    korean = lang == "ko"
    lines = [(schedule.title_ko if korean and schedule.title_ko else schedule.title)]
    for c in schedule.classes.values():
        name = c.name_ko if korean and c.name_ko else c.name
        basis = c.legal_basis_ko if korean and c.legal_basis_ko else c.legal_basis
        if c.period == "permanent":
            lines.append(t(PERMANENT).format(name=name, action=t(ACTIONS[c.action]), basis=basis))
        else:
            lines.append(t(SENTENCE).format(name=name, period=period_text(c.period, lang),
                                            trigger=t(TRIGGERS[c.trigger]), action=t(ACTIONS[c.action]),
                                            basis=basis))
    sample = planning_sample_text(archive, lang, schedule)
    if sample:
        lines.append(sample)
    lines.append(t(HOLDS))
    return "\n".join(lines)


def planning_sample_text(archive: Archive | None, language: str | None = None, schedule: Any = None) -> str:
    """The planning-sample rule in one sentence, or "" when the schedule has it off (``schedule``:
    that one rather than the archive's active one)."""
    lang = language or current_language()
    t = translations(lang).gettext
    if schedule is None:
        assert archive is not None
        schedule = schedules.active_schedule(archive)
    sample = schedule.planning_sample
    if sample is None or not sample.enabled:
        return ""
    c = schedule.classes[sample.record_class]
    name = c.name_ko if lang == "ko" and c.name_ko else c.name
    period = t(PERMANENT_WORD) if c.period == "permanent" else period_text(c.period, lang)
    cameras = ", ".join(sample.cameras) if sample.cameras else t(ALL_CAMERAS)
    return t(SAMPLE).format(first=f"{sample.offset_minutes:02d}",
                            last=f"{sample.offset_minutes + sample.minutes_per_hour:02d}",
                            cameras=cameras, name=name, period=period)


def template(archive: Archive) -> str:
    """The first draft (Korean, the default language of a notice) with the schedule in force."""
    return TEMPLATE_KO.format(organization=archive.settings.organization,
                              retention=retention_summary(archive, "ko"))
