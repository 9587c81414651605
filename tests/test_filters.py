"""Filters are checked where they enter: inline in a question, as a Filters value (the app's boxes), in the assistant."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import CORPUS

from ingest.pipeline import Ingestor
from rag.assistant import Assistant, build_assistant
from rag.config import Settings
from rag.embeddings import Embedder
from rag.errors import SectorChatError
from rag.intent import split_filters
from rag.store import ChunkStore
from rag.types import Answer, Filters

DATES = "use YYYY, YYYY-MM or YYYY-MM-DD"
NEWS = "innovative-drug-sector-2026-01.md"  # dated 2026-01-13
FILING = "lanting-biopharma-2025-annual-results.pdf"  # dated 2026-03-20

# (inline filter, the FilterError's message): every key, malformed dates of each kind, empty values, bad types.
BAD_INLINE = [
    ("from:2025-xx", f"from:2025-xx is not a date: {DATES}"),
    ("from:--", f"from:-- is not a date: {DATES}"),
    ("since:2025-", f"since:2025- is not a date: {DATES}"),
    ("to:25-01-01", f"to:25-01-01 is not a date: {DATES}"),
    ("until:2025-01-01-01", f"until:2025-01-01-01 is not a date: {DATES}"),
    ("from:2025-001", f"from:2025-001 is not a date: {DATES}"),
    ("from:０２０２", f"from:０２０２ is not a date: {DATES}"),  # full-width digits: str.isdigit() says yes
    ("to:2025-13", f"to:2025-13 is not a date: there is no month 13 ({DATES})"),
    ("since:2025-00", f"since:2025-00 is not a date: there is no month 0 ({DATES})"),
    ("from:2025-01-32", f"from:2025-01-32 is not a date: 2025-01 has 31 days ({DATES})"),
    ("until:2025-02-30", f"until:2025-02-30 is not a date: 2025-02 has 28 days ({DATES})"),
    ("to:2023-02-29", f"to:2023-02-29 is not a date: 2023-02 has 28 days ({DATES})"),
    ("from:2025-04-00", f"from:2025-04-00 is not a date: 2025-04 has 30 days ({DATES})"),
    ('from:""', f'from:"" has no date: {DATES}'),
    ('to:"', f'to:" has no date: {DATES}'),
    ("year:abcd", "year:abcd is not a year: use four digits (YYYY, e.g. 2025)"),
    ("year:25", "year:25 is not a year: use four digits (YYYY, e.g. 2025)"),
    ("year:2025-03", "year:2025-03 is not a year: use four digits (YYYY, e.g. 2025)"),
    ('year:""', 'year:"" is not a year: use four digits (YYYY, e.g. 2025)'),
    ("type:bogus", "type:bogus is not a document type: use news, filing or other"),
    ("doc_type:filings", "doc_type:filings is not a document type: use news, filing or other"),
    ('type:""', 'type:"" is not a document type: use news, filing or other'),
    ('company:""', 'company:"" has no value: give a company name or ticker'),
    ('ticker:" "', 'ticker:" " has no value: give a company name or ticker'),
    ('source:""', 'source:"" has no value: give a document path or file name'),
]


@pytest.mark.parametrize(("written", "message"), BAD_INLINE, ids=[w for w, _ in BAD_INLINE])
def test_malformed_inline_filter_names_itself_and_the_accepted_forms(written: str, message: str) -> None:
    with pytest.raises(SectorChatError) as err:  # entry points translate the whole hierarchy
        split_filters(f"What was the revenue? {written}")
    assert (type(err.value).__name__, str(err.value)) == ("FilterError", message)


def test_filter_error_is_a_sectorchat_error() -> None:
    from rag.errors import FilterError

    assert issubclass(FilterError, SectorChatError)


@pytest.mark.parametrize(("written", "start", "end"), [
    ("year:2025", "2025-01-01", "2025-12-31"),
    ("year:2025?", "2025-01-01", "2025-12-31"),  # a filter that ends the sentence
    ("from:2025 to:2025", "2025-01-01", "2025-12-31"),
    ("from:2024-02 to:2024-02", "2024-02-01", "2024-02-29"),  # the last day of a leap February
    ("since:2025-2 until:2025-02.", "2025-02-01", "2025-02-28"),
    ("from:2025/3/7 to:2025/03/07", "2025-03-07", "2025-03-07"),
    ('from:"2025-04" to:"2025-06"', "2025-04-01", "2025-06-30"),
    ("FROM:2025-01-01 To:2025-12-31，", "2025-01-01", "2025-12-31"),
])
def test_wellformed_dates_become_the_days_they_cover(written: str, start: str, end: str) -> None:
    rest, f = split_filters(f"What was the revenue {written}")
    assert (rest, f.date_from, f.date_to) == ("What was the revenue", start, end)


def test_inline_types_and_names_are_kept() -> None:
    rest, f = split_filters('type:Filing company:"Lanting Bio" source:x.pdf deals?')
    assert rest == "deals?"
    assert f == Filters(("filing",), ("Lanting Bio",), ("x.pdf",))


# Filters built directly, as the app builds them from its boxes and evals from a suite.
BAD_VALUES = [
    ({"date_from": "2025-xx"}, f"from date '2025-xx' is not a date: {DATES}"),
    ({"date_to": "2025-13"}, f"to date '2025-13' is not a date: there is no month 13 ({DATES})"),
    ({"date_to": "2025-02-30"}, f"to date '2025-02-30' is not a date: 2025-02 has 28 days ({DATES})"),
    ({"date_from": "  "}, f"from date '  ' has no date: {DATES}"),
    ({"date_from": "2026", "date_to": "2025"},
     "the date filters leave no day: from 2026-01-01 is after to 2025-12-31"),
    ({"doc_types": ("bogus",)}, "doc_type 'bogus' is not a document type: use news, filing or other"),
    ({"companies": ("",)}, "a company filter has no value: give a company name or ticker"),
    ({"sources": (" ",)}, "a source filter has no value: give a document path or file name"),
]


@pytest.mark.parametrize(("fields", "message"), BAD_VALUES, ids=[str(f) for f, _ in BAD_VALUES])
def test_filters_value_refuses_what_cannot_work(fields: dict[str, object], message: str) -> None:
    with pytest.raises(SectorChatError) as err:
        Filters(**fields)  # type: ignore[arg-type]
    assert (type(err.value).__name__, str(err.value)) == ("FilterError", message)


def test_filters_value_keeps_the_days_a_year_or_month_covers() -> None:
    assert Filters(date_from="2026", date_to="2026-02") == Filters(date_from="2026-01-01", date_to="2026-02-28")
    assert Filters(doc_types=("News",)).doc_types == ("news",)


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Assistant:
    tmp = tmp_path_factory.mktemp("filters")
    settings = Settings(index=tmp / "index")
    shutil.copytree(CORPUS, tmp / "corpus")
    store = ChunkStore(settings, model_name=embedder.name, dimension=embedder.dimension)
    assert len(Ingestor(settings, embedder, store).run([tmp / "corpus"]).added) == 2
    return build_assistant(settings, embedder=embedder)


QUESTION = "What upfront payment did the PD-1/VEGF bispecific antibody deal bring?"


@pytest.mark.parametrize(("written", "message"), BAD_INLINE, ids=[w for w, _ in BAD_INLINE])
def test_assistant_answers_a_malformed_inline_filter_with_its_message(assistant: Assistant, written: str,
                                                                     message: str) -> None:
    question = f"{QUESTION} {written}"
    answer = assistant.ask(question)
    assert (answer.question, answer.error, answer.answer) == (question, message, f"Error: {message}")
    assert answer.refused and answer.citations == () and answer.figures == ()
    streamed = list(assistant.stream(question))
    assert streamed[0] == f"Error: {message}"
    assert isinstance(streamed[-1], Answer) and streamed[-1].error == message and len(streamed) == 2


def test_assistant_answers_contradicting_filters_with_a_message(assistant: Assistant) -> None:
    # The caller's filters (the app's boxes, --from) and the question's own meet in the assistant.
    answer = assistant.ask(f"{QUESTION} to:2025", filters=Filters(date_from="2026-01"))
    assert answer.error == "the date filters leave no day: from 2026-01-01 is after to 2025-12-31"


@pytest.mark.parametrize(("filters", "question", "cited"), [
    (Filters(date_to="2026-01"), QUESTION, {NEWS}),  # a month as the app's "To" box takes it: to its last day
    (Filters(date_from="2026-02"), QUESTION, {FILING}),
    (Filters(date_from="2026", date_to="2026"), QUESTION, {NEWS, FILING}),
    (None, f"{QUESTION} to:2026-01", {NEWS}),
    (None, f"{QUESTION} since:2026-3", {FILING}),
    (None, f"{QUESTION} year:2026", {NEWS, FILING}),
])
def test_dates_written_as_a_year_or_month_filter_by_the_days_they_cover(
        assistant: Assistant, filters: Filters | None, question: str, cited: set[str]) -> None:
    answer = assistant.ask(question, filters=filters)
    assert not answer.error and not answer.refused
    names = {Path(c.source).name for c in answer.citations}
    assert names and names <= cited
    if len(cited) == 1:
        assert names == cited
