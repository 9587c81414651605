"""The assistant: question (+ history, filters) -> retrieval -> answer backend -> figure check -> Answer."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Generator, Iterator, Sequence
from typing import Any
from dataclasses import replace

import numpy as np

from rag.answer import ExtractiveAnswerer
from rag.compose import Draft, refusal
from rag.context import names_hint
from rag.figures import parse_figures, same_quantity
from rag.lexicon import Lexicon, default_lexicon
from rag.readers import derived as derived_reader
from rag.readers import listing as listing_reader
from rag.readers import passage as passage_reader
from rag.readers import summary as summary_reader
from rag.readers import table as table_reader
from rag.bm25 import BM25Cache
from rag.config import Settings
from rag.embeddings import Embedder, make_embedder
from rag.errors import QuestionTooLongError, SectorChatError
from rag.intent import MEASURE_WORDS, split_filters
from rag.query import QueryAnalysis, analyze, known_names
from rag.llm import LLMAnswerer, make_chat_model
from rag.rerank import FeatureReranker, NoReranker
from rag.retrieve import Reranker, Retriever
from rag.store import ChunkStore, bm25_folder
from rag.text import search_tokens
from rag.types import Answer, Citation, Figure, Filters, RetrievedChunk
from rag.verify import check_figures

logger = logging.getLogger(__name__)

Turn = tuple[str, str]  # (user message, assistant answer)

_FOLLOW_UP = re.compile(
    r"^\s*(and|what about|how about|and what about|what of|also|then|same for|那|那么|还有|以及)\b|[呢]\s*(?:[?？]\s*)?$|"
    r"\b(its|their|it|they|that|this|those|these|the same)\b|其|该|它|他们",
    re.IGNORECASE,
)
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")


def rewrite_follow_up(question: str, history: Sequence[Turn]) -> str:
    """Make a follow-up stand alone, using the previous user question.

    "and in 2024?" after "How many deals were signed in 2025?" becomes "How many deals were signed in 2024?";
    "what about its upfront payment?" after a question on the PD-1/VEGF deal's milestones keeps the deal's
    words ("what about its upfront payment? (PD-1/VEGF bispecific deal)").
    """
    previous = next((q for q, _ in reversed(history) if q.strip()), "")
    if not previous:
        return question
    own = analyze(question)
    stands_alone = bool(own.entities or own.years) and len(own.concepts) >= 2
    if not _FOLLOW_UP.search(question) and (stands_alone or len(own.concepts) > 4):
        return question
    new_years = _YEAR.findall(question)
    old_years = _YEAR.findall(previous)
    rest = re.sub(r"^\s*(and|what about|how about|and what about|what of|also|then|same for|那|那么|还有|以及)\s*",
                  "", question, flags=re.IGNORECASE)
    rest_tokens = [t for t in search_tokens(rest) if not _YEAR.fullmatch(t)]
    if new_years and old_years and not rest_tokens:
        rewritten = previous
        for old, new in zip(old_years, new_years, strict=False):
            rewritten = rewritten.replace(old, new)
        return rewritten
    analysis = analyze(previous)
    keep = [w for w in re.findall(r"[A-Za-z][\w/&.-]*|[\u4e00-\u9fff]+", previous)
            if w.lower() in {t for t in search_tokens(previous)} or w in analysis.entities]
    keep = [w for w in keep if w.lower() not in {t.lower() for t in search_tokens(rest)}]
    in_dates = {w.lower() for d in analysis.dates for w in d.split()}
    # The follow-up names its own measure ("its milestone payments"): drop the previous one ("upfront payment").
    keep = [w for w in keep if w.lower() not in in_dates and not MEASURE_WORDS.fullmatch(w)]
    context = " ".join(dict.fromkeys(keep + list(analysis.dates) + ([] if new_years else list(old_years))))
    return f"{question.strip()} ({context})" if context else question


class Assistant:
    """Answers questions over one index. Build it with ``build_assistant(settings)``."""

    def __init__(self, settings: Settings, embedder: Embedder, store: ChunkStore, retriever: Retriever,
                 answerer: ExtractiveAnswerer, llm: LLMAnswerer | None = None, *,
                 lexicon: Lexicon | None = None) -> None:
        self.settings = settings
        self.embedder = embedder
        self.store = store
        self.retriever = retriever
        self.answerer = answerer
        self.llm = llm
        self.lexicon = lexicon or default_lexicon()
        self._known: tuple[str, frozenset[str]] = ("", frozenset())

    def ask(self, question: str, *, history: Sequence[Turn] = (), filters: Filters | None = None,
            k: int | None = None) -> Answer:
        """Answer one question; an over-long question, a malformed inline filter and errors of the index or store
        become an Answer with ``error`` set (never an exception)."""
        final: Answer | None = None
        for item in self.stream(question, history=history, filters=filters, k=k, tokens=False):
            if isinstance(item, Answer):
                final = item
        assert final is not None  # stream always ends with an Answer
        return final

    def stream(self, question: str, *, history: Sequence[Turn] = (), filters: Filters | None = None,
               k: int | None = None, tokens: bool = True) -> Iterator[str | Answer]:
        """Yield the answer text piece by piece, then the final Answer (the same object ``ask`` returns).

        With an LLM backend the pieces are the model's tokens as they come; if the figure check then rejects the
        model's answer (and ``llm_fallback`` is on), the final Answer is the extractive one, with a notice.
        A question over ``max_question_chars`` is refused before it is read (no filter parsing, no embedding);
        turns of ``history`` over that limit are left out, as they were refused when asked.
        """
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        try:
            limit = self.settings.max_question_chars
            check_question_size(question, limit)  # before anything reads the question: no pass over 1M characters
            # An over-long earlier question was refused when it was asked; it must not refuse every follow-up.
            history = [turn for turn in history if len(turn[0]) <= limit]
            intent, merged, ranked = self._search(question, history, filters, k, timings)
            t1 = time.perf_counter()
            answer: Answer | None = None
            if self.llm is not None and ranked:
                answer = yield from self._llm_answer(question, intent, ranked, tokens=tokens)
            if answer is None:
                def more(text: str) -> Sequence[RetrievedChunk]:  # a search of its own for a formula's input
                    sub = analyze(text, lexicon=self.lexicon, known=self._known_names())
                    return _joined(self.retriever.line_items(sub, self.lexicon, filters=merged),
                                   self.retriever.retrieve(sub, k=k or self.settings.top_k, filters=merged))

                items = self.retriever.line_items(intent, self.lexicon, filters=merged)
                draft = self._draft(intent, ranked, more=more, items=items)
                t2 = time.perf_counter()
                answer = self._finish(question, intent, draft, ranked, backend=self.answerer.name)
                timings["figure_check"] = (time.perf_counter() - t2) * 1000  # part of "answer"
                if tokens:
                    yield from re.findall(r"\S+\s*", answer.answer)
            elif tokens and answer.notice:
                yield "\n\n" + answer.notice + "\n\n" + answer.answer
            timings["answer"] = (time.perf_counter() - t1) * 1000
        except SectorChatError as exc:
            message = self._redact(str(exc))
            answer = Answer(question=question, answer=f"Error: {message}", refused=True, refusal_reason=message,
                            refusal_code="error", error=message)
            if tokens:
                yield answer.answer
        timings["total"] = (time.perf_counter() - t0) * 1000
        yield replace(answer, timings_ms=timings)

    def search(self, question: str, *, history: Sequence[Turn] = (), filters: Filters | None = None,
               k: int | None = None) -> list[RetrievedChunk]:
        """The chunks ``ask`` would read for the question, best first (the retrieval stage alone: inline filters
        split off, the follow-up rewritten, query analysis, retrieval and reranking)."""
        check_question_size(question, self.settings.max_question_chars)
        return self._search(question, history, filters, k, {})[2]

    def _search(self, question: str, history: Sequence[Turn], filters: Filters | None, k: int | None,
                timings: dict[str, float]) -> tuple[QueryAnalysis, Filters, list[RetrievedChunk]]:
        text, inline = split_filters(question)
        merged = _merge_filters(filters or Filters(), inline)
        intent = analyze(rewrite_follow_up(text, history), lexicon=self.lexicon, known=self._known_names())
        ranked = self.retriever.retrieve(intent, k=k or self.settings.top_k, filters=merged, timings=timings)
        return intent, merged, ranked

    def _llm_answer(self, question: str, intent: QueryAnalysis, ranked: Sequence[RetrievedChunk], *,
                    tokens: bool) -> Generator[str, None, Answer | None]:
        """The LLM's answer, checked; None means: use the extractive answer (with the notice kept)."""
        assert self.llm is not None
        text = ""
        sent = 0  # characters of the redacted text already yielded
        hold = len(self._secret()) - 1 if self._secret() else 0  # a secret may be split across tokens
        try:
            for piece in self.llm.stream_text(intent, ranked):
                text += piece
                if tokens:
                    safe = self._redact(text)
                    upto = max(sent, len(safe) - hold)
                    if upto > sent:
                        yield safe[sent:upto]
                        sent = upto
            if tokens and len(self._redact(text)) > sent:
                yield self._redact(text)[sent:]
        except Exception as exc:  # any failure of the endpoint: timeouts, refused connections, bad replies
            detail = self._redact(str(exc))[:200]  # redacted before it is cut, so no part of a key survives
            logger.warning("LLM backend failed: %s: %s", type(exc).__name__, detail)
            notice = (f"The LLM backend failed ({type(exc).__name__}: {detail}); "
                      "this is the extractive answer.")
            return self._extractive_with_notice(question, intent, ranked, notice)
        draft = self.llm.to_draft(self._redact(text), ranked)
        answer = self._finish(question, intent, draft, ranked, backend=self.llm.name)
        bad = [f for f in answer.figures if f.status in ("unverified", "quoted")]
        if not bad or not self.settings.llm_fallback:
            return answer
        notice = ("The LLM's answer stated " + ", ".join(f"{f.text} ({f.reason})" for f in bad[:3])
                  + "; this is the extractive answer instead.")
        return self._extractive_with_notice(question, intent, ranked, notice)

    def _known_names(self) -> frozenset[str]:
        """The companies and tickers of the indexed documents, read again when the index changes."""
        generation = self.store.generation()
        if self._known[0] != generation or not generation:
            docs = self.store.list_documents()
            self._known = (generation, known_names([d.meta.company for d in docs],
                                                   [t for d in docs for t in d.meta.tickers]))
        return self._known[1]

    def _secret(self) -> str:
        key = self.settings.llm_api_key.get_secret_value() if self.settings.llm_api_key else ""
        return key if len(key) >= 8 else ""

    def _redact(self, text: str) -> str:
        """Secrets from the settings never reach the user, whatever a model writes."""
        key = self._secret()
        return text.replace(key, "[redacted]") if key else text

    def _draft(self, analysis: QueryAnalysis, ranked: Sequence[RetrievedChunk], *,
               more: derived_reader.More | None = None, items: Sequence[RetrievedChunk] = ()) -> Draft:
        """The readers chosen by the operation (each returns evidence or nothing), then the sentence answerer.

        list -> the list reader; define / explain -> the passage reader; summarize -> the summarizer; arithmetic
        and "which year" over a line item -> the table reader, which also reads a named measure's cell when it is
        sure. The sentence answerer answers the rest; when it finds no sentence of the asked kind, a table cell
        answers, and a question that asks for no kind of figure gets the passage that answers it best. ``items``
        are the chunks whose table rows name an asked measure (``Retriever.line_items``): the table readers read
        them after the retrieved ones.
        """
        if not ranked:
            return self.answerer.draft(analysis, ranked)
        op = analysis.operation
        first = {"list": lambda: listing_reader.read(analysis, ranked),
                 "define": lambda: passage_reader.read(analysis, ranked, similarity=self.answerer.similarity),
                 "explain": lambda: passage_reader.read(analysis, ranked, similarity=self.answerer.similarity),
                 "summarize": lambda: summary_reader.read(analysis, ranked, similarity=self.answerer.similarity)}
        if op == "lookup" and not analysis.wants_figure:  # "Where is X headquartered?": words, not a figure
            first["lookup"] = lambda: passage_reader.read(analysis, ranked, similarity=self.answerer.similarity)
        if op in first and (evidence := first[op]()) is not None:
            return self._unnamed(analysis, evidence.draft)
        if analysis.wants_figure and derived_reader.asks_formula(analysis, self.lexicon):
            computed = derived_reader.read(analysis, _joined(ranked, items), lexicon=self.lexicon, more=more)
            if computed is not None:
                return computed.draft
            # Not every input was found: a sentence that states the metric by its name may answer ("gross margin
            # was 43.3%"); a single cell or another sentence never does.
            named = derived_reader.named_formula(analysis.question, self.lexicon)
            if named is not None:  # a row or sentence that states the metric itself ("Gross margin | 45.2%")
                cells = table_reader.read(analysis, _joined(ranked, items), lexicon=self.lexicon)
                if cells is not None and cells.draft.quotes and self.lexicon.names_measure_text(
                        named.names, cells.draft.quotes[0].split("\n")[-1].split(" | ")[0]):
                    return cells.draft
                draft = self.answerer.draft(analysis, ranked)
                if not draft.refused and any(self.lexicon.names_measure_text(named.names, q) for q in draft.quotes):
                    return draft
            return refusal("the inputs of the asked computation were not all found in a table of the asked company "
                           "and period", "no_input")
        cells = table_reader.read(analysis, _joined(ranked, items), lexicon=self.lexicon) if (
            analysis.wants_figure or op in table_reader.OPERATIONS) else None
        if cells is None and analysis.measures and more is not None and analysis.wants_figure:
            # The statement that holds a named line item is often not among the passages the question's words
            # found ("Apple total assets 2022" finds the risk factors): search once more by its line-item names.
            names = [m.en[0] for mid in analysis.measures for m in [self.lexicon.measure(mid)] if m is not None]
            query = " ".join([*analysis.entities, *names, *analysis.years])
            cells = table_reader.read(analysis, more(query), lexicon=self.lexicon)
        if cells is not None and op in table_reader.OPERATIONS:
            return cells.draft
        draft = self.answerer.draft(analysis, ranked)
        if cells is not None and cells.named_measure and cells.score >= table_reader.SURE and not draft.refused:
            # A statement's line item is the authority for a named measure: a sentence stands only when it
            # states the same figure ("Revenue for 2025 was RMB 2,356.8 million, an increase of 38.2% ..."), or
            # the same number where the table states no scale ("$24.9" in a table, "$24.9 million" in the text).
            said = parse_figures(draft.text)
            # A sentence that rounds the line ("$7.4 billion" for 7,386.7 million) gives way to it.
            if not any(abs(f.quantity - g.quantity) <= 1e-9 * max(abs(f.quantity), 1.0)
                       or (f.scale == 1.0 and abs(f.value - g.value) < 1e-9)
                       for f in cells.figures for g in said):
                return cells.draft
        if (cells is not None and op == "lookup" and len(cells.figures) >= 2 and not draft.refused
                and not all(_states_cell(draft, analysis, [f]) for f in cells.figures)):
            # a line item asked for several years: the row gives each; a sentence that does not state them all
            # gives way to it
            return cells.draft
        if cells is not None and cells.named_measure and not draft.refused and (
                not _checks_out(draft, analysis) and _checks_out(cells.draft, analysis)
                and not _states_cell(draft, analysis, cells.figures)):
            # The sentence's figure is for another period or company (the check says so, reading the passage on
            # its own: "Fourth-quarter EPS was $(0.16)" for a full year), the measure's row is for the asked one.
            return cells.draft
        if draft.refused and draft.code in ("no_figure", "low_score"):
            if cells is not None:
                return cells.draft
            if analysis.quantity is None:
                passage = passage_reader.read(analysis, ranked, similarity=self.answerer.similarity)
                if passage is not None:
                    return self._unnamed(analysis, passage.draft)
        return self._unnamed(analysis, draft)

    @staticmethod
    def _unnamed(analysis: QueryAnalysis, draft: Draft) -> Draft:
        """An answer none of whose passages names a name the question writes ("Quasar") says so first: its
        figures are then only quoted, and the reader should know why."""
        if draft.refused or not analysis.hints or not draft.cited:
            return draft
        about = " ".join(f"{c.text} {c.title} {c.company} {' '.join(c.tickers)}" for c in draft.cited).lower()
        unnamed = [h for h in analysis.hints if not names_hint(h, about)]
        if not unnamed:
            return draft
        note = (f"No passage found names {', '.join(unnamed)}; the closest passages are quoted, and their figures are "
                "not matched to the question.")
        return replace(draft, text=f"{note}\n{draft.text}")

    def _extractive_with_notice(self, question: str, intent: QueryAnalysis, ranked: Sequence[RetrievedChunk],
                                notice: str) -> Answer:
        answer = self._finish(question, intent, self._draft(intent, ranked), ranked,
                              backend=self.answerer.name)
        return replace(answer, notice=notice)

    def _finish(self, question: str, intent: QueryAnalysis, draft: Draft, ranked: Sequence[RetrievedChunk], *,
                backend: str) -> Answer:
        citations = tuple(
            Citation(n=i + 1, chunk_id=c.id, source=c.source, title=c.title, page=c.page, quote=draft.quotes[i],
                     doc_type=c.doc_type, date=c.date, section=c.section, chunk_text=c.text)
            for i, c in enumerate(draft.cited)
        )
        figures = tuple(check_figures(draft.text, draft.cited, intent, derived=draft.arithmetic))
        if (backend == self.answerer.name and not draft.refused and intent.quantity is not None and intent.years
                and intent.measures and intent.operation not in _NOT_AN_AMOUNT and figures
                and all(f.status == "quoted" for f in figures)):
            # A measure asked for a period, and every figure found is about another period, company or measure: the
            # corpus does not state the asked one. Say so, and point to the closest passages rather than restate
            # their figures as an answer.
            draft = _not_stated(draft, figures)
            figures = ()
        grounded = (not draft.refused and bool(citations)
                    and all(f.status in ("verified", "derived") for f in figures))
        return Answer(question=question, answer=draft.text, citations=citations, figures=figures,
                      grounded=grounded, refused=draft.refused, refusal_reason=draft.reason,
                      refusal_code=draft.code if draft.refused else "",
                      backend=backend, retrieved=tuple(rc.chunk.id for rc in ranked))


# Operations whose answer is not the amount of a figure: which year, a list, a definition, an explanation, a summary
_NOT_AN_AMOUNT = frozenset({"compare", "list", "define", "explain", "summarize"})


# What a quoted figure's reason says -> how the refusal names it.
_NOT_ABOUT = (("another period", "another period"), ("another part of the year", "another part of the year"),
              ("another quarter", "another quarter"), ("another company", "another company"),
              ("another measure", "another measure"), ("does not name", "something the question does not ask about"))


def _not_stated(draft: Draft, figures: Sequence[Any]) -> Draft:
    """A refusal in place of a draft whose figures are all only quoted, naming why and citing its passages."""
    why = [words for kind, words in _NOT_ABOUT if any(kind in f.reason for f in figures)]
    marks = "".join(f"[{i + 1}]" for i in range(len(draft.cited)))
    reason = (f"the passages found state figures for {' or '.join(why) or 'something else'}, not for the asked "
              "company, period and measure")
    text = f"The corpus does not answer this: {reason}. The closest passages are cited {marks}."
    return replace(draft, text=text, refused=True, reason=reason, code="not_stated", arithmetic=())


def _checks_out(draft: Draft, analysis: QueryAnalysis) -> bool:
    """Whether the figure check verifies every figure of a draft (it states at least one)."""
    figures = check_figures(draft.text, draft.cited, analysis, derived=draft.arithmetic)
    return bool(figures) and all(f.status in ("verified", "derived") for f in figures)


def _states_cell(draft: Draft, analysis: QueryAnalysis, cells: Sequence[Figure]) -> bool:
    """Whether a verified figure of a draft is the cell's figure (within its precision, or the same number where
    the table states no scale: "$24.9 million" in the text, "$24.9" in the table)."""
    said = [h for f in check_figures(draft.text, draft.cited, analysis, derived=draft.arithmetic)
            if f.status == "verified" for h in parse_figures(f.text)[:1]]
    return any(same_quantity(c, h) or (c.scale == 1.0 and abs(c.value * h.scale - h.quantity) <= 1e-6 * abs(h.quantity))
               for c in cells for h in said)


def _joined(first: Sequence[RetrievedChunk], then: Sequence[RetrievedChunk]) -> list[RetrievedChunk]:
    """The chunks of ``first``, then those of ``then`` not among them."""
    seen = {rc.chunk.id for rc in first}
    return [*first, *(rc for rc in then if rc.chunk.id not in seen)]


def check_question_size(question: str, limit: int) -> None:
    """Refuse a question longer than ``limit`` characters (SECTORCHAT_MAX_QUESTION_CHARS).

    Raises:
        QuestionTooLongError: naming the question's length, the limit and the setting.
    """
    if len(question) > limit:
        raise QuestionTooLongError(
            f"the question is {len(question):,} characters long, over the limit of {limit:,} "
            "(SECTORCHAT_MAX_QUESTION_CHARS): ask a shorter question, or raise the setting"
        )


def _merge_filters(a: Filters, b: Filters) -> Filters:
    return Filters(
        doc_types=a.doc_types + b.doc_types,
        companies=a.companies + b.companies,
        sources=a.sources + b.sources,
        date_from=b.date_from or a.date_from,
        date_to=b.date_to or a.date_to,
    )


def build_assistant(settings: Settings, *, embedder: Embedder | None = None, chat_model: Any = None) -> Assistant:
    """Assemble the real parts named by the settings (the one place where that happens).

    Args:
        settings: what to build.
        embedder: an already loaded embedding model to share.
        chat_model: a langchain chat model to answer with instead of the one SECTORCHAT_LLM names.
    """
    embedder = embedder or make_embedder(settings)
    store = ChunkStore(settings, model_name=embedder.name, dimension=embedder.dimension, create=False)
    lexicon = default_lexicon()
    reranker: Reranker = FeatureReranker(lexicon) if settings.reranker == "features" else NoReranker()
    if settings.reranker.startswith("cross-encoder:"):
        from rag.rerank import CrossEncoderReranker

        reranker = CrossEncoderReranker(settings.reranker.split(":", 1)[1])
    retriever = Retriever(store, embedder, BM25Cache(bm25_folder(settings)), reranker, lexicon=lexicon)

    def similarity(question: str, texts: list[str]) -> list[float]:
        if not texts:
            return []
        vectors = np.asarray(embedder.embed_documents([question, *texts]), dtype=np.float32)
        return [float(x) for x in vectors[1:] @ vectors[0]]

    llm = None
    if chat_model is not None:
        llm = LLMAnswerer(chat_model, max_sources=settings.top_k)
    elif settings.llm != "extractive":
        llm = LLMAnswerer(make_chat_model(settings), max_sources=settings.top_k)
    return Assistant(settings, embedder, store, retriever, ExtractiveAnswerer(similarity), llm, lexicon=lexicon)
