"""The extractive answerer: picks the source sentences that answer the question and cites each one [n]."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rag.companies import mentions
from rag.figures import format_quantity, parse_figures, same_quantity
from rag.tables import figures_in
from rag.intent import date_forms
from rag.lexicon import Lexicon, default_lexicon
from rag.query import QueryAnalysis
from rag.text import is_header_row, is_table_line, search_tokens, split_sentences, table_gaps
from rag.compose import Draft, compose as _compose, refusal
from rag.context import INSTRUCTION, PART_OF_YEAR, identity_text as _haystack, mentions_year, names_hint, period_text
from rag.types import Chunk, Figure, RetrievedChunk

Similarity = Callable[[str, list[str]], list[float]]

MIN_SCORE = 0.3
# Measures that name what a figure is, one to the exclusion of the others in a sentence: a question about a deal's
# milestones is not answered by its upfront payment. (Broad words such as payment, value, deals are not here.)
DISTINCT_MEASURES = frozenset(
    "upfront milestone milestones revenue revenues profit profits income loss losses expense expenses cash royalty "
    "royalties 首付款 里程碑 收入 营收 利润 亏损 现金 特许权".split()
)
@dataclass(frozen=True)
class Unit:
    """A quotable piece of a chunk: a sentence, or a table row read with its header."""

    chunk: Chunk
    rank: int
    text: str  # what is quoted
    context: str  # what is matched (a row with its header)
    figures: tuple[Figure, ...]
    before: str = ""  # the sentence before it in the chunk (names a deal or company a sentence refers back to)


@dataclass(frozen=True)
class Scored:
    unit: Unit
    score: float
    terms: float
    sim: float


_MD_HEADING = re.compile(r"#{1,6}\s+")


def units_of(chunk: Chunk, rank: int) -> list[Unit]:
    """Sentences of a chunk; each row of a table becomes a unit read together with its header line."""
    out: list[Unit] = []
    prose: list[str] = []
    header = ""
    in_table = False

    def flush() -> None:
        text = "\n".join(prose)
        before = ""
        for a, b in split_sentences(text, 0, len(text)):
            sentence = " ".join(text[a:b].split())
            hashes = _MD_HEADING.match(sentence)
            heading = (hashes.group() if hashes else "") + chunk.section
            if chunk.section and sentence.startswith(heading + " ") and len(sentence) > len(heading) + 20:
                sentence = sentence[len(heading) + 1 :]  # the heading line ("## Highlights") is not part of it
            if INSTRUCTION.search(sentence):
                before = sentence
                continue
            out.append(Unit(chunk, rank, sentence, sentence, tuple(figures_in(sentence)), before))
            before = sentence
        prose.clear()

    lines = chunk.text.split("\n")
    gaps = table_gaps(lines)
    for i, line in enumerate(lines):
        if i in gaps:
            continue  # a blank line between rows of one table
        if is_table_line(line):
            if not in_table:
                flush()
                in_table = True
                if is_header_row(line):
                    header = line.strip()
                    continue
                header = ""
            row = line.strip()
            context = f"{header}\n{row}" if header else row
            row_figures = tuple(f for f in figures_in(context, chunk.unit_note) if f.start >= len(context) - len(row))
            out.append(Unit(chunk, rank, context, context, row_figures))
        else:
            in_table = False
            prose.append(line)
    flush()
    return out


def _near(unit: Unit) -> str:
    """What a sentence is about: itself, the sentence before it, its section and its document's identity."""
    return f"{unit.context} {unit.before} {_haystack(unit.chunk)}"


def _is_chinese(text: str) -> bool:
    cjk = len(re.findall(r"[\u4e00-\u9fff]", text))
    return cjk * 3 > len(re.findall(r"[A-Za-z]", text))


def _period(unit: Unit, *, inherit: bool = False) -> str:
    """Where a sentence's period is written: in it (a table row: with its header), else (``inherit``) in the
    sentence before it, else in its document's title."""
    return period_text(unit.context, unit.chunk.title, unit.before if inherit else "")


def part_of_year(period: str, question: str, years: Sequence[str]) -> str:
    """How a passage's period misses the question's: "part" (of an asked year, for a question about whole years),
    "whole" (a whole year, for a question about part of one), or "" (both whole years or both parts).

    Only a part named next to an asked year counts ("the six months ended June 30, 2025", "2025 interim results",
    "2025年上半年"): "write-downs in 2018 ..., partly offset by one in the third quarter of 2019" is about 2018.
    """
    def part(text: str) -> bool:
        return any(y in text[max(0, m.start() - 30) : m.end() + 30] for m in PART_OF_YEAR.finditer(text) for y in years)

    passage_part, question_part = part(period), part(question)
    if passage_part != question_part:
        return "part" if passage_part else "whole"
    return ""


def _has_kind(unit: Unit, kind: str | None, *, strict: bool = True) -> bool:
    """Whether a unit states a figure of the asked kind (codes only when codes are asked for)."""
    if kind == "code":
        return any(f.unit == "code" for f in unit.figures)
    figures = [f for f in unit.figures if f.unit != "code"]
    if not strict or kind is None:
        return bool(figures)
    return any(_kind_ok(f, kind) for f in figures)


class ExtractiveAnswerer:
    """Answers by quoting source sentences, no LLM. See README "How answers are made".

    Args:
        similarity: sentence similarity to the question (the embedding model), used with word overlap so
            that a question in one language can match a passage in another when the model allows.
        max_sentences: most sentences quoted.
    """

    name = "extractive"

    def __init__(self, similarity: Similarity | None = None, *, max_sentences: int = 2,
                 lexicon: Lexicon | None = None) -> None:
        self.similarity = similarity
        self.max_sentences = max_sentences
        self.lexicon = lexicon or default_lexicon()

    def draft(self, intent: QueryAnalysis, ranked: Sequence[RetrievedChunk]) -> Draft:
        if not ranked:
            return _refusal("no passage in the corpus matches the question", "no_passage")
        units = [u for r, rc in enumerate(ranked) for u in units_of(rc.chunk, r)]
        if not units:
            return _refusal("the passages found hold no text", "no_passage")
        missing = [e for e in intent.entities if not any(mentions(e, _near(u).lower()) for u in units)]
        if missing:
            return _refusal(f"no passage found mentions {', '.join(missing)}", "no_entity")
        if intent.years and not any(mentions_year(_period(u), y) for u in units for y in intent.years):
            return _refusal(f"no passage found is about {' or '.join(intent.years)}", "no_period")
        # Only sentences that could answer are scored: the similarity step embeds each one it scores.
        eligible = self._score(intent, self._candidates(intent, units))
        if not eligible:
            what = "a figure of that kind" if intent.wants_figure else "an answer"
            return _refusal(f"no passage found states {what} for the question's company and period", "no_figure")
        eligible.sort(key=lambda s: s.score, reverse=True)
        if eligible[0].score < MIN_SCORE:
            return _refusal("the closest passages do not answer the question", "low_score")
        if intent.comparison and len(intent.years) >= 2:
            compared = self._compare(intent, eligible)
            if compared is not None:
                return compared
        chosen = self._choose(intent, eligible)
        others = self._alternatives(intent, eligible, chosen)
        if others:
            return _compose([(s.unit, "") for s in chosen + others], lead=_several(chosen[0], others))
        return _compose([(s.unit, "") for s in chosen])

    def _alternatives(self, intent: QueryAnalysis, eligible: list[Scored], chosen: list[Scored]) -> list[Scored]:
        """Sentences of other documents that answer nearly as well with another figure: two deals the question
        fits, or two sources that disagree. They are shown beside the best one, never dropped silently."""
        if not intent.wants_figure or intent.comparison:
            return []
        best = chosen[0]
        kind = [f for f in best.unit.figures if _kind_ok(f, intent.quantity)]
        sources = {c.unit.chunk.source for c in chosen}
        out: list[Scored] = []
        for s in eligible[1:]:
            if s.unit.chunk.source in sources or s.score < 0.7 * best.score or s.terms < 0.6 * best.terms:
                continue
            figures = [f for f in s.unit.figures if _kind_ok(f, intent.quantity)]
            if not figures or any(same_quantity(f, g) for f in figures for g in kind):
                continue
            out.append(s)
            sources.add(s.unit.chunk.source)
            if len(out) == 2:
                break
        return out

    # -- scoring ------------------------------------------------------------------------------------------------
    def _score(self, intent: QueryAnalysis, units: list[Unit]) -> list[Scored]:
        sims = self.similarity(intent.question, [u.context for u in units]) if self.similarity else [0.0] * len(units)
        top_sim = max(sims, default=0.0)
        concepts = intent.concepts
        asks_chinese = _is_chinese(intent.question)
        entity_tokens = {t for e in intent.entities for t in search_tokens(e)}
        out = []
        for u, sim in zip(units, sims, strict=True):
            own = set(search_tokens(f"{u.context} {u.chunk.section}"))
            identity = set(search_tokens(f"{u.chunk.title} {u.chunk.company}"))
            near = set(search_tokens(u.before))
            hit = 0.0
            for c in concepts:
                hit += 1.0 if c & (own | identity) else (0.5 if c & near else 0.0)
            share = hit / len(concepts) if concepts else 0.0
            focus = len({t for c in concepts for t in c} & own) / max(len(own), 1)
            kind = 0.25 if intent.wants_figure and _has_kind(u, intent.quantity) else 0.0
            rel_sim = sim / top_sim if top_sim > 0 else 0.0
            same_language = 0.25 if _is_chinese(u.text) == asks_chinese else 0.0
            # "Revenue for 2025 was ..." / "Finance costs | (38.7)": the asked measure is what the sentence is about.
            opening = set(search_tokens(u.text.split("\n")[-1])[:3])
            leads = 0.1 if any(c & opening for c in concepts if not c & entity_tokens) else 0.0
            score = (0.7 * share + 0.25 * max(sim, 0.0) + 0.25 * max(rel_sim, 0.0) + 0.2 * focus + kind + same_language + leads
                     - (0.05 if "\n" in u.context else 0.0)  # on a tie, a sentence reads better than a table row
                     + 0.05 / (1 + u.rank))
            out.append(Scored(u, score, share, sim))
        return out

    def _candidates(self, intent: QueryAnalysis, units: list[Unit]) -> list[Unit]:
        """The sentences that could answer; those naming the asked measure ("milestone") when some do.

        A sentence's period is its own year, else its document title's. For a question naming a measure, a
        sentence naming that measure may also take its year from the sentence before ("On July 2, 2024, X licensed
        ... for $573 million upfront. X is also eligible for up to $5.38 billion in milestone payments")."""
        strict = [u for u in units if self._eligible(intent, u)]
        # Measures the question itself words ("net" is no measure, though a translation of it is 净利润).
        said = set(search_tokens(intent.question)) & DISTINCT_MEASURES
        measures = [c for c in intent.concepts if c & said]
        if measures:
            loose = [u for u in units if self._eligible(intent, u, inherit=True)]
            words = {id(u): set(search_tokens(f"{u.context} {u.chunk.section}")) for u in loose + strict}
            naming = [u for u in loose if all(c & words[id(u)] for c in measures)]
            # Else, for a figure of a given year, sentences that name no other measure: never an upfront payment
            # for "What was X's revenue in 2025?" (without a year, questions are looser: "what does ... represent").
            asked = set().union(*measures)
            strict = naming or [u for u in strict
                                if not (intent.years and intent.wants_figure and (words[id(u)] & DISTINCT_MEASURES) - asked)]
        # A figure of a named measure (revenue, capex, total assets ...) for a given year comes from a sentence or
        # row that names it under one of its names: else "net sales in fiscal 2023" is answered by any 2023 row.
        # Market data and deal terms ("成交额", "净值", "upfront payment") are asked without a year ("最近",
        # "latest"): a sentence that names them comes first all the same.
        market = [m for m in intent.measures if (x := self.lexicon.measure(m)) is not None
                  and not x.statement] if not intent.years else []
        if intent.measures and intent.wants_figure and (intent.years or market):
            if intent.years:
                strict = [u for u in strict if any(self.lexicon.names_measure(
                    m, f"{u.context} {u.before} {u.chunk.section}") for m in intent.measures)]
            else:  # its own sentence must name it (the title before "基金代码为860053" names 净值, the code is no NAV)
                strict = [u for u in strict if any(self.lexicon.names_measure(m, u.context) for m in market)] or strict
        # Names the question writes that no lexicon knows ("CXO", "Orchid"): passages naming them come first.
        if intent.hints:
            naming_hints = [u for u in strict if all(names_hint(h, _near(u).lower()) for h in intent.hints)]
            strict = naming_hints or strict
        # A figure for part of a year answers a question about the year only when nothing else does (and the
        # quoted sentence then says which part); likewise a full-year figure a question about part of one.
        if intent.years:
            # The title counts too: every figure of a "2025 interim results announcement" is about part of 2025.
            fitting = [u for u in strict
                       if not part_of_year(f"{_period(u, inherit=True)} {u.chunk.title}", intent.question, intent.years)]
            strict = fitting or strict
        return strict

    def _eligible(self, intent: QueryAnalysis, unit: Unit, *, inherit: bool = False) -> bool:
        if intent.wants_figure and not _has_kind(unit, intent.quantity):
            return False
        if intent.years and not any(mentions_year(_period(unit, inherit=inherit), y) for y in intent.years):
            return False
        near = _near(unit).lower()
        return all(mentions(e, near) for e in intent.entities) and all(
            any(form.lower() in near for form in date_forms(d)) for d in intent.dates)

    def _choose(self, intent: QueryAnalysis, eligible: list[Scored]) -> list[Scored]:
        best = eligible[0]
        chosen = [best]
        years_left = {y for y in intent.years if not mentions_year(_period(best.unit), y)}
        for s in eligible[1:]:
            if len(chosen) >= self.max_sentences:
                break
            if s.unit.text in {c.unit.text for c in chosen}:
                continue
            covers = years_left and any(mentions_year(_period(s.unit), y) for y in years_left)
            if covers or (s.score >= 0.85 * best.score and s.terms >= best.terms * 0.9 and not intent.years):
                chosen.append(s)
                years_left -= {y for y in years_left if mentions_year(_period(s.unit), y)}
        return chosen

    # -- comparisons --------------------------------------------------------------------------------------------
    def _compare(self, intent: QueryAnalysis, eligible: list[Scored]) -> Draft | None:
        """Two figures of the same kind for two years: state the difference (and growth) with the arithmetic."""
        y_new, y_old = sorted(intent.years[:2], reverse=True)
        labelled = [(s, f, set(search_tokens(label))) for s in eligible for f, label in labelled_figures(s.unit.text)]
        # Words that name what a figure measures ("upfront") weigh more than words every clause shares ("deal").
        df = {i: sum(1 for *_, toks in labelled if c & toks) for i, c in enumerate(intent.concepts)}
        weight = {i: math.log(1 + len(labelled) / n) if n else 0.0 for i, n in df.items()}
        total = sum(weight.values()) or 1.0
        per_year: dict[str, list[tuple[float, Unit, Figure, set[str]]]] = {}
        for year in (y_new, y_old):
            options = []
            for s, f, toks in labelled:
                if year not in s.unit.context or not _kind_ok(f, intent.quantity):
                    continue
                if not _figure_in_year(s.unit.text, f, year, intent.years):
                    continue
                overlap = sum(w for i, w in weight.items() if intent.concepts[i] & toks) / total
                options.append((2 * overlap + s.score, s.unit, f, {t for t in toks if not t[0].isdigit()}))
            if not options:
                return None
            per_year[year] = sorted(options, key=lambda o: o[0], reverse=True)[:6]
        # The two figures must measure the same thing: pairs whose labels share words are preferred.
        best_pair = max(
            ((a[0] + b[0] + 2 * len(a[3] & b[3]) / max(len(a[3] | b[3]), 1), a, b)
             for a in per_year[y_new] for b in per_year[y_old]),
            key=lambda p: p[0],
        )
        picks = {y_new: (best_pair[1][1], best_pair[1][2]), y_old: (best_pair[2][1], best_pair[2][2])}
        (u_new, f_new), (u_old, f_old) = picks[y_new], picks[y_old]
        if f_new.unit != f_old.unit and not ({f_new.unit, f_old.unit} <= {"count", ""}):
            return None
        diff = f_new.quantity - f_old.quantity
        unit = f_new.unit or "count"
        sign = "more" if diff >= 0 else ("fewer" if unit in ("count", "") else "less")
        diff_text = format_quantity(abs(diff), unit)
        arith = f"{f_new.text} − {f_old.text} = {diff_text}"
        noun = _noun_after(u_new.text, f_new) if unit in ("count", "") else ""
        lead = f"{diff_text} {sign}{' ' + noun if noun else ''} in {y_new} than in {y_old}: {arith}"
        arithmetic = [(diff_text, arith)]
        if re.search(r"grow|growth|increase|rise|rose|percent|%|增长|增速", intent.question, re.IGNORECASE) and f_old.quantity:
            pct = diff / abs(f_old.quantity) * 100
            pct_text = format_quantity(round(pct, 1), "%")
            pct_arith = f"({f_new.text} − {f_old.text}) / {f_old.text} = {pct_text}"
            lead += f", a change of {pct_text}"
            arithmetic.append((pct_text, pct_arith))
        return _compose([(u_new, ""), (u_old, "")], lead=lead, arithmetic=arithmetic)


def _several(best: Scored, others: list[Scored]) -> str:
    """The lead of an answer with several matches: conflicting sources when they are about one company."""
    companies = {best.unit.chunk.company} | {o.unit.chunk.company for o in others}
    if len(companies) == 1 and "" not in companies:
        return f"The sources disagree on this for {best.unit.chunk.company}; each is quoted"
    return "More than one passage answers this, with different figures (different deals or companies, or sources " \
           "that disagree); each is quoted"


def labelled_figures(sentence: str) -> list[tuple[Figure, str]]:
    """Each figure of a sentence with the words that say what it measures.

    "..., with the number of deals, total value, and upfront payments rising to 157 deals, $135.655 billion, and
    $7 billion, respectively" pairs each figure with its list item; otherwise a figure's label is its clause.
    """
    figures = [f for f in parse_figures(sentence) if f.unit != "code"]
    out: list[tuple[Figure, str]] = []
    resp = re.search(r"\brespectively\b|分别", sentence)
    if resp and len(figures) >= 2:
        listed = [f for f in figures if f.end <= resp.start()]
        # the list of figures just before "respectively"
        tail = listed[-len(listed):]
        before = sentence[: tail[0].start]
        names = [p for p in re.split(r",\s*(?:and\s+)?|(?<!\s)\s+and\s+|、|，|和", before) if p.strip()]
        if len(names) >= len(tail):
            for f, name in zip(tail, names[-len(tail):], strict=True):
                out.append((f, name + " " + f.text))
            rest = [f for f in figures if f not in tail]
            return out + [(f, _clause(sentence, f)) for f in rest]
    return [(f, _clause(sentence, f)) for f in figures]


def _clause(sentence: str, f: Figure) -> str:
    start = max(sentence.rfind(sep, 0, f.start) for sep in (",", ";", "，", "；", "。"))
    ends = [i for i in (sentence.find(sep, f.end) for sep in (",", ";", "，", "；", "。")) if i >= 0]
    return sentence[start + 1 : min(ends) if ends else len(sentence)]


def _noun_after(sentence: str, f: Figure) -> str:
    """The word that counts a figure in its sentence: "157 deals" -> "deals"."""
    m = re.match(r"\s*([A-Za-z][A-Za-z-]+|[\u4e00-\u9fff])", sentence[f.end :])
    return m.group(1) if m and m.group(1).lower() not in {"in", "and", "of", "to", "from", "for"} else ""


def _kind_ok(f: Figure, kind: str | None) -> bool:
    if kind == "percent":
        return f.unit == "%"
    if kind == "count":
        return f.unit in ("count", "")
    if kind == "currency":
        return f.unit in ("CNY", "USD", "HKD", "EUR")
    if kind == "code":
        return f.unit == "code"
    return f.unit != "code"


def _figure_in_year(sentence: str, f: Figure, year: str, years: Sequence[str]) -> bool:
    """Whether a figure belongs to ``year``: the nearest asked year mentioned before or in its clause."""
    clause = _clause(sentence, f)
    in_clause = [y for y in years if y in clause]
    if in_clause:
        return year in in_clause
    before = sentence[: f.start]
    last = max(((before.rfind(y), y) for y in years), default=(-1, ""))
    return last[1] == year if last[0] >= 0 else year in sentence


def _refusal(reason: str, code: str = "no_answer") -> Draft:
    return refusal(reason, code)
