"""The answer path's vocabulary as data: measures, directives, operations and non-name words, loaded and checked.

Each file of this folder is under version control with its schema written at its top; ``load_lexicon`` reads
them, checks every entry (naming the file, the entry and the field that is wrong) and returns one frozen
``Lexicon`` that callers pass in. Adding a measure, a directive or an operation is an edit of a YAML file.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from rag.errors import ConfigError

FOLDER = Path(__file__).resolve().parent
MEASURE_KINDS = ("currency", "count", "percent", "per_share", "ratio", "days")
STATEMENTS = ("income", "balance", "cash_flow", "")
OPERATIONS = ("lookup", "compare", "change", "growth", "cagr", "ratio", "sum", "average", "list", "define",
              "explain", "summarize")
_DIRECTIVE_GROUPS = frozenset({"scale", "decimals", "currency", "statement"})
# Words a statement adds to a line item's name without changing what it states.
_LINE_ITEM_FILLER = frozenset({"total", "less", "add", "net", "gaap", "reported", "a", "b", "c"})
_LINKING = frozenset({"and", "of", "for", "from", "in", "on", "the", "to", "by", "with", "at", "per"})


@dataclass(frozen=True)
class Measure:
    """A financial measure and the names (line items) that state it, in English and Chinese."""

    id: str
    kind: str
    statement: str
    en: tuple[str, ...]
    zh: tuple[str, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return self.en + self.zh


@dataclass(frozen=True)
class Company:
    """A company's English names and aliases (the usual short one first), Chinese names and tickers."""

    en: tuple[str, ...]
    zh: tuple[str, ...]
    tickers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Statement:
    """A primary financial statement and the titles filings give it."""

    id: str
    en: tuple[str, ...]
    zh: tuple[str, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return self.en + self.zh


@dataclass(frozen=True)
class FormKind:
    """What questions call a kind of filing ("10-K", "annual report", 年报) and the metadata forms it means."""

    id: str
    en: tuple[str, ...]
    zh: tuple[str, ...]
    forms: tuple[str, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return self.en + self.zh


@dataclass(frozen=True)
class Directive:
    """A way of saying how to answer ("Answer in USD billions"): its pattern and what it sets."""

    name: str
    pattern: re.Pattern[str]
    percent: bool = False
    decimals: int | None = None
    sentence: bool = False


@dataclass(frozen=True)
class Formula:
    """A derived metric: the names questions give it and its expression over measure ids."""

    id: str
    names: tuple[str, ...]
    expression: str
    unit: str  # percent | ratio | currency

    @property
    def inputs(self) -> tuple[str, ...]:
        return expression_names(self.expression)


@dataclass(frozen=True)
class OperationCue:
    op: str
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class Lexicon:
    """All the vocabulary of the answer path, loaded once (``load_lexicon``) and passed in."""

    measures: tuple[Measure, ...]
    directives: tuple[Directive, ...]
    operations: tuple[OperationCue, ...]
    not_names: frozenset[str]
    question_words: frozenset[str]
    formulas: tuple[Formula, ...] = ()
    statements: tuple[Statement, ...] = ()
    outflows: frozenset[str] = frozenset()
    companies: tuple[Company, ...] = ()
    forms: tuple[FormKind, ...] = ()

    def forms_named(self, question: str) -> tuple[str, ...]:
        """The metadata forms of the kinds of filing a question names ("Oracle's 10-K" -> 10-K, 10-K/A, ...)."""
        low = " ".join(question.lower().split())
        return tuple(dict.fromkeys(f for k in self.forms if any(find_name(low, n) >= 0 for n in k.names)
                                   for f in k.forms))

    def is_outflow(self, label: str) -> bool:
        """Whether a line item's label names an outflow or a cost ("Interest expense", "Capital expenditures")."""
        low = label.lower()
        return any(w in self.outflows for w in re.findall(r"[a-z]+", low)) or any(
            w in low for w in self.outflows if "\u4e00" <= w[0] <= "\u9fff")

    def measure(self, measure_id: str) -> Measure | None:
        return next((m for m in self.measures if m.id == measure_id), None)

    def names_measure(self, measure_id: str, text: str) -> bool:
        """Whether ``text`` writes one of the measure's names (English as whole words, Chinese anywhere)."""
        m = self.measure(measure_id)
        if m is None:
            return False
        low = " ".join(text.lower().split())
        return any(find_name(low, name) >= 0 for name in m.names)


    def measure_fit(self, measure_id: str, label: str) -> float:
        """How wholly a row label is a name of the measure: the share of the label's words that the longest name it
        writes covers ("Net income" 1.0; "Less: Net income attributable to non-controlling interests" 0.29), with
        the words a statement adds to any line item ("total", "less", footnote marks) left out; 0.0 when the label
        writes none of its names."""
        m = self.measure(measure_id)
        if m is None:
            return 0.0
        low = " ".join(label.lower().split())
        found = [name for name in m.names if find_name(low, name) >= 0]
        if not found:
            return 0.0
        longest = max(found, key=len)
        if any(len(n) > len(longest) and find_name(n, longest) >= 0 and find_name(low, n) >= 0
               for o in self.measures if o.id != measure_id for n in o.names):
            return 0.0  # the label is another measure's longer name: "Cost of sales" is no "sales"
        if any("\u4e00" <= ch <= "\u9fff" for ch in low):  # Chinese: characters, not words
            return min(1.0, max(len(n) for n in found) / max(1, len(low.strip("：:()（）0-9 "))))
        words = [w for w in re.findall(r"[a-z&]+", low) if w not in _LINE_ITEM_FILLER]
        named = max(len(re.findall(r"[a-z&]+", n)) for n in found)
        return min(1.0, named / max(1, len(words)))

    def row_fit(self, measure_id: str, label: str, heading: str = "") -> float:
        """``measure_fit`` of a table row: its label, else (a little less) its heading and label together
        ("Earnings per share:" above "Diluted")."""
        return self.measure_fit(measure_id, label) or (
            0.9 * self.measure_fit(measure_id, f"{heading.rstrip(':： ')} {label}") if heading else 0.0)

    @staticmethod
    def asked_words(question: str) -> frozenset[str]:
        """A question's English words by their first five letters, as ``question_fit`` compares them."""
        return frozenset(w[:5] for w in re.findall(r"[a-z&]+", question.lower()))

    def question_fit(self, measure_id: str, label: str, heading: str, asked: frozenset[str]) -> float:
        """How wholly a row that names the measure (``row_fit`` > 0) is what the question asks: the share of its
        label's words that the measure's name or the question writes (words compared by their first five letters,
        ``asked``; a heading counts as in ``row_fit``). "How much revenue did Oracle earn from cloud services and
        license support?" fits "Total cloud services and license support revenues" (1.0) before "Total revenues
        for operating segments" (0.33: "operating segments" is not asked); "Apple's COGS" fits "Total cost of
        sales" (1.0: the measure's name)."""
        if self.row_fit(measure_id, label, heading) <= 0.0:
            return 0.0
        m = self.measure(measure_id)
        own = self.measure_fit(measure_id, label) > 0.0
        low = " ".join((label if own else f"{heading.rstrip(':： ')} {label}").lower().split())
        if m is None or any("\u4e00" <= ch <= "\u9fff" for ch in low):
            return self.row_fit(measure_id, label, heading)
        named = {w[:5] for n in m.names if find_name(low, n) >= 0 for w in re.findall(r"[a-z&]+", n)}
        words = [w[:5] for w in re.findall(r"[a-z&]+", low) if w not in _LINE_ITEM_FILLER and w not in _LINKING]
        share = sum(1 for w in words if w in named or w in asked) / len(words) if words else 1.0
        return share if own else 0.9 * share

    def statement_named(self, title: str) -> str:
        """The id of the statement a title (a section heading) names ("Consolidated Statements of Cash Flows" ->
        cash_flow), or ""."""
        low = " ".join(title.lower().split())
        return next((s.id for s in self.statements if any(find_name(low, n) >= 0 for n in s.names)), "")

    @staticmethod
    def names_measure_text(names: tuple[str, ...], text: str) -> bool:
        """Whether ``text`` writes one of ``names`` (English as whole words, Chinese anywhere)."""
        low = " ".join(text.lower().split())
        return any(find_name(low, name) >= 0 for name in names)


def find_name(text: str, name: str) -> int:
    """Where ``name`` is written in ``text`` as whole words (a Chinese name: anywhere), or -1."""
    start = 0
    while (at := text.find(name, start)) >= 0:
        end = at + len(name)
        if "\u4e00" <= name[0] <= "\u9fff" or ((at == 0 or not text[at - 1].isalnum())
                                               and (end == len(text) or not text[end].isalnum())):
            return at
        start = at + 1
    return -1


def _read(path: Path, key: str) -> list[Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot be read as YAML: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get(key), list):
        raise ConfigError(f"{path}: needs a list under '{key}'")
    return list(data[key])


def _field(path: Path, i: int, entry: Any, name: str, kind: type, *, required: bool = True) -> Any:
    if not isinstance(entry, dict):
        raise ConfigError(f"{path}: entry {i + 1} is not a mapping")
    if name not in entry:
        if required:
            raise ConfigError(f"{path}: entry {i + 1} ({entry.get('id') or entry.get('name') or entry.get('op')}) "
                              f"lacks '{name}'")
        return None
    value = entry[name]
    if not isinstance(value, kind) or (kind is str and not value and name not in ("statement",)):
        raise ConfigError(f"{path}: entry {i + 1} field '{name}' must be a non-empty {kind.__name__}, "
                          f"got {value!r}")
    return value


def _choice(path: Path, i: int, entry: Any, name: str, choices: tuple[str, ...], what: str) -> str:
    value: str = _field(path, i, entry, name, str)
    if value not in choices:
        raise ConfigError(f"{path}: {what}: {name} {value!r} is not one of {', '.join(choices)}")
    return value


def _names(path: Path, i: int, entry: Any, name: str) -> tuple[str, ...]:
    values = _field(path, i, entry, name, list)
    if not all(isinstance(v, str) and v.strip() for v in values):
        raise ConfigError(f"{path}: entry {i + 1} field '{name}' must list non-empty strings")
    return tuple(" ".join(str(v).lower().split()) for v in values)


def _compile(path: Path, i: int, text: str) -> re.Pattern[str]:
    try:
        return re.compile(text, re.IGNORECASE)
    except re.error as exc:
        raise ConfigError(f"{path}: entry {i + 1} pattern does not compile: {exc}") from exc


def load_measures(path: Path) -> tuple[Measure, ...]:
    out: list[Measure] = []
    for i, e in enumerate(_read(path, "measures")):
        mid = _field(path, i, e, "id", str)
        kind = _choice(path, i, e, "kind", MEASURE_KINDS, f"measure {mid}")
        statement = e.get("statement", "")
        if statement not in STATEMENTS:
            raise ConfigError(f"{path}: measure {mid}: statement {statement!r} is not one of "
                              f"{', '.join(repr(s) for s in STATEMENTS)}")
        if any(m.id == mid for m in out):
            raise ConfigError(f"{path}: measure {mid} is listed twice")
        out.append(Measure(mid, kind, statement, _names(path, i, e, "en"), _names(path, i, e, "zh")))
    return tuple(out)


def load_directives(path: Path) -> tuple[Directive, ...]:
    out: list[Directive] = []
    for i, e in enumerate(_read(path, "directives")):
        name = _field(path, i, e, "name", str)
        pattern = _compile(path, i, _field(path, i, e, "pattern", str))
        unknown = set(pattern.groupindex) - _DIRECTIVE_GROUPS
        if unknown:
            raise ConfigError(f"{path}: directive {name!r}: unknown group(s) {', '.join(sorted(unknown))} "
                              f"(known: {', '.join(sorted(_DIRECTIVE_GROUPS))})")
        decimals = _field(path, i, e, "decimals", int, required=False)
        percent = bool(_field(path, i, e, "percent", bool, required=False))
        sentence = bool(_field(path, i, e, "sentence", bool, required=False))
        out.append(Directive(name, pattern, percent, decimals, sentence))
    return tuple(out)


def load_operations(path: Path) -> tuple[OperationCue, ...]:
    out: list[OperationCue] = []
    for i, e in enumerate(_read(path, "operations")):
        op = _choice(path, i, e, "op", OPERATIONS, f"entry {i + 1}")
        out.append(OperationCue(op, _compile(path, i, _field(path, i, e, "pattern", str))))
    return tuple(out)


FORMULA_UNITS = ("percent", "ratio", "currency")


def expression_names(expression: str) -> tuple[str, ...]:
    """The names an arithmetic expression uses ("(a - b) / c" -> a, b, c), abs aside.

    Raises:
        ValueError: the expression is not arithmetic over names and numbers (+ - * / parentheses, abs()).
    """
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"not an expression: {expression!r}") from exc
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            if not (isinstance(node.func, ast.Name) and node.func.id == "abs" and len(node.args) == 1):
                raise ValueError(f"only abs(...) may be called in {expression!r}")
        elif isinstance(node, ast.Name):
            if node.id != "abs":
                names.append(node.id)
        elif not isinstance(node, (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Constant, ast.Add, ast.Sub,
                                   ast.Mult, ast.Div, ast.USub, ast.Load)):
            raise ValueError(f"{type(node).__name__} is not allowed in {expression!r}")
    return tuple(dict.fromkeys(names))


def load_formulas(path: Path, measures: tuple[Measure, ...]) -> tuple[Formula, ...]:
    known = {m.id for m in measures}
    out: list[Formula] = []
    for i, e in enumerate(_read(path, "formulas")):
        fid = _field(path, i, e, "id", str)
        unit = _choice(path, i, e, "unit", FORMULA_UNITS, f"formula {fid}")
        expression = _field(path, i, e, "expression", str)
        try:
            used = expression_names(expression)
        except ValueError as exc:
            raise ConfigError(f"{path}: formula {fid}: {exc}") from exc
        unknown = [n for n in used if n not in known]
        if unknown:
            raise ConfigError(f"{path}: formula {fid}: {', '.join(unknown)} is no measure of measures.yaml")
        out.append(Formula(fid, _names(path, i, e, "names"), expression, unit))
    return tuple(out)


def load_words(path: Path) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot be read as YAML: {exc}") from exc
    lists = []
    for key in ("not_names", "question_words", "outflows"):
        values = data.get(key) if isinstance(data, dict) else None
        if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
            raise ConfigError(f"{path}: '{key}' must be a list of words")
        lists.append(frozenset(v.lower() for v in values))
    return lists[0], lists[1], lists[2]


def load_statements(path: Path) -> tuple[Statement, ...]:
    out: list[Statement] = []
    for i, e in enumerate(_read(path, "statements")):
        sid = _choice(path, i, e, "id", tuple(s for s in STATEMENTS if s), f"entry {i + 1}")
        if any(s.id == sid for s in out):
            raise ConfigError(f"{path}: statement {sid} is listed twice")
        out.append(Statement(sid, _names(path, i, e, "en"), _names(path, i, e, "zh")))
    return tuple(out)


def load_forms(path: Path) -> tuple[FormKind, ...]:
    out: list[FormKind] = []
    for i, e in enumerate(_read(path, "forms")):
        kid = _field(path, i, e, "id", str)
        if any(k.id == kid for k in out):
            raise ConfigError(f"{path}: form kind {kid} is listed twice")
        zh = _field(path, i, e, "zh", list)
        if not all(isinstance(v, str) and v.strip() for v in zh):
            raise ConfigError(f"{path}: entry {i + 1} field 'zh' must list non-empty strings")
        forms = _field(path, i, e, "forms", list)
        if not forms or not all(isinstance(v, str) and v.strip() for v in forms):
            raise ConfigError(f"{path}: entry {i + 1} field 'forms' must list non-empty strings")
        out.append(FormKind(kid, _names(path, i, e, "en"), tuple(v.strip() for v in zh), tuple(v.strip() for v in forms)))
    return tuple(out)


def load_companies(path: Path) -> tuple[Company, ...]:
    out: list[Company] = []
    owner: dict[str, int] = {}
    for i, e in enumerate(_read(path, "companies")):
        lists = []
        for name in ("en", "zh", "tickers"):
            values = _field(path, i, e, name, list, required=name != "tickers") or []
            if not all(isinstance(v, str) and v.strip() for v in values):
                raise ConfigError(f"{path}: entry {i + 1} field '{name}' must list non-empty strings")
            lists.append(tuple(" ".join(v.split()) for v in values))
        if not lists[0]:
            raise ConfigError(f"{path}: entry {i + 1} needs at least one English name")
        for name in lists[0] + lists[1] + lists[2]:
            if owner.setdefault(name.lower(), i) != i:
                raise ConfigError(f"{path}: entry {i + 1}: the name {name!r} is also entry {owner[name.lower()] + 1}'s")
        out.append(Company(*lists))
    return tuple(out)


def load_lexicon(folder: Path | None = None) -> Lexicon:
    """Read and check the vocabulary files of ``folder`` (default: this package's own).

    Raises:
        ConfigError: naming the file, the entry and the field that is wrong.
    """
    folder = folder or FOLDER
    not_names, question_words, outflows = load_words(folder / "words.yaml")
    measures = load_measures(folder / "measures.yaml")
    return Lexicon(
        measures=measures,
        directives=load_directives(folder / "directives.yaml"),
        operations=load_operations(folder / "operations.yaml"),
        not_names=not_names,
        question_words=question_words,
        formulas=load_formulas(folder / "formulas.yaml", measures),
        statements=load_statements(folder / "statements.yaml"),
        outflows=outflows,
        companies=load_companies(folder / "companies.yaml"),
        forms=load_forms(folder / "forms.yaml"),
    )


@lru_cache(maxsize=1)
def default_lexicon() -> Lexicon:
    """The packaged vocabulary, loaded once per process."""
    return load_lexicon()


# The packaged vocabulary's patterns, held here so that the pattern audit (tests/test_patterns.py) reads the
# patterns that come from data like any other.
LEXICON_PATTERNS = tuple(d.pattern for d in default_lexicon().directives) + tuple(
    o.pattern for o in default_lexicon().operations)
