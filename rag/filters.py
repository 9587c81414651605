"""Filter values checked where they enter (inline, command line, app box): dates, years, document types, names."""

from __future__ import annotations

import calendar

from rag.errors import FilterError

DOC_TYPES: tuple[str, ...] = ("news", "filing", "other")
DATE_FORMS = "YYYY, YYYY-MM or YYYY-MM-DD"


def date_bound(value: str, *, end: bool, label: str) -> str:
    """The first day (or with ``end`` the last day) a date filter covers, as YYYY-MM-DD.

    "2025" covers 2025-01-01 to 2025-12-31, "2025-02" 2025-02-01 to 2025-02-28, "2025-3-7" (or "2025/03/07") one
    day. Month and day may have one or two digits; the year has four.

    Args:
        value: the date as the user wrote it.
        end: give the last day of a year or month (a ``to:`` bound) instead of the first.
        label: the filter as the user wrote it ("from:2025-xx", "--to 2025-13"), for the message.

    Raises:
        FilterError: naming ``label`` and the accepted forms, for anything that is not a real date.
    """
    text = value.strip()
    if not text:
        raise FilterError(f"{label} has no date: use {DATE_FORMS}")
    parts = text.replace("/", "-").split("-")
    # ASCII digits only: str.isdigit() also accepts "²" and "٣", which int() then rejects or misreads.
    well_formed = (len(parts) <= 3 and all(p.isascii() and p.isdigit() for p in parts)
                   and len(parts[0]) == 4 and parts[0][0] != "0" and all(1 <= len(p) <= 2 for p in parts[1:]))
    if not well_formed:
        raise FilterError(f"{label} is not a date: use {DATE_FORMS}")
    year = int(parts[0])
    month = int(parts[1]) if len(parts) > 1 else (12 if end else 1)
    if not 1 <= month <= 12:
        raise FilterError(f"{label} is not a date: there is no month {month} (use {DATE_FORMS})")
    days = calendar.monthrange(year, month)[1]
    day = int(parts[2]) if len(parts) > 2 else (days if end else 1)
    if not 1 <= day <= days:
        raise FilterError(f"{label} is not a date: {year}-{month:02d} has {days} days (use {DATE_FORMS})")
    return f"{year:04d}-{month:02d}-{day:02d}"


def year_bounds(value: str, *, label: str) -> tuple[str, str]:
    """The first and last day of a ``year:`` filter ("2025" -> 2025-01-01, 2025-12-31).

    Raises:
        FilterError: when the value is not a four-digit year.
    """
    text = value.strip()
    if not (len(text) == 4 and text.isascii() and text.isdigit() and text[0] != "0"):
        raise FilterError(f"{label} is not a year: use four digits (YYYY, e.g. 2025)")
    return f"{text}-01-01", f"{text}-12-31"


def doc_type(value: str, *, label: str) -> str:
    """A document type filter, lower-cased ("Filing" -> "filing").

    Raises:
        FilterError: when the value is not one of DOC_TYPES.
    """
    kind = value.strip().lower()
    if kind not in DOC_TYPES:
        raise FilterError(f"{label} is not a document type: use {', '.join(DOC_TYPES[:-1])} or {DOC_TYPES[-1]}")
    return kind


def name(value: str, *, label: str, what: str) -> str:
    """A company or source filter: any text but none (an empty one would match every document).

    Args:
        value: the name as written.
        label: the filter as the user wrote it.
        what: what the filter wants ("a company name or ticker").

    Raises:
        FilterError: when the value is blank.
    """
    text = value.strip()
    if not text:
        raise FilterError(f"{label} has no value: give {what}")
    return text


def date_range(date_from: str, date_to: str) -> None:
    """Check that a from/to pair (already YYYY-MM-DD) leaves at least one day.

    Raises:
        FilterError: when ``date_from`` is after ``date_to``.
    """
    if date_from and date_to and date_from > date_to:
        raise FilterError(f"the date filters leave no day: from {date_from} is after to {date_to}")
