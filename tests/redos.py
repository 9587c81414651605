"""A static check for regular expressions that backtrack super-linearly, and the finder of a project's patterns.

The check works on the parse tree of Python's ``re`` and asks, for each character ``c`` that the pattern can
meet, what a long run of ``c`` costs. Inside one match attempt, a run can be shared out among several unbounded
quantifiers that all accept ``c`` and sit next to each other (``\\s*#*\\s*``, ``\\s+(.+?)``, ``.*?X.*?``): with
``d`` of them, a failing attempt tries about ``n**(d-1)`` ways. A quantifier over a body that can itself take a
run of ``c`` in more than one way (``(\\w+\\s?)+``, ``(\\s|\\xa0)*``) tries exponentially many. ``search`` adds
one more factor of ``n`` when a run can begin the match, since every position of the run is a new start
(``\\s+x`` is quadratic on spaces). The ``degree`` reported is the exponent of ``n``; linear is 1.

It models runs of one repeated character, which is what all of these classic cases need; it does not find
ambiguity that only a run of a longer repeated word shows (``(?:ab)*(?:ab)*``).
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import re._constants as C  # noqa: N812  (the parser of the re module itself, Python 3.11+)
import re._parser as P  # noqa: N812

BOUND = 64  # a counted repeat up to this many is a constant cost, not a run
_BIG = 99  # "exponential"

# Characters every pattern is probed with, besides those its literals and ranges name: kinds of white space
# (ASCII, tab, newline, NBSP, ideographic), letters, digits, CJK, punctuation, and a few far code points.
_PROBES = (
    " \t\n\r\x0b\x0c\xa0\u2009\u3000\u200b"
    "aezAEZ_é\u00df0159\u0663\uff10\uff21"
    "中一\u3400\u9fff。，；：！？、（）"
    ".,;:!?#-|/\\()[]{}<>\"'`~@$%^&*+=\x00\x7f\uffff\U0001f600"
)


@dataclass(frozen=True)
class Finding:
    """A pattern that costs more than linear time on a run of ``char``."""

    pattern: str
    char: str
    degree: int  # cost grows as n ** degree (_BIG: exponentially)
    reason: str


@dataclass
class _Info:
    t: bool  # transparent: can match a run of c (or nothing) and let a window pass through
    can: bool  # can match a non-empty run of c
    full: int  # degree of the best path through, when transparent
    lead: int  # degree of a window from the start, closed (failing) inside
    trail: int  # degree of a window reaching the end
    closed: int  # degree of a window entirely inside, closed inside
    multi: bool = False  # a run of c can be matched in two ways of one length (two alternatives take c)


_OPAQUE = _Info(t=False, can=False, full=0, lead=0, trail=0, closed=0)


def _in_category(code: Any, ch: str, ascii_only: bool) -> bool:
    if ascii_only and ord(ch) > 127:
        word = space = digit = False
    else:
        digit = ch.isdecimal()
        space = ch.isspace()
        word = ch.isalnum() or ch == "_"
    table = {
        C.CATEGORY_DIGIT: digit, C.CATEGORY_NOT_DIGIT: not digit,
        C.CATEGORY_SPACE: space, C.CATEGORY_NOT_SPACE: not space,
        C.CATEGORY_WORD: word, C.CATEGORY_NOT_WORD: not word,
        C.CATEGORY_LINEBREAK: ch == "\n", C.CATEGORY_NOT_LINEBREAK: ch != "\n",
    }
    return bool(table.get(code, False))


def _variants(ch: str, ignore_case: bool) -> set[str]:
    if not ignore_case:
        return {ch}
    return {v for v in (ch, ch.lower(), ch.upper(), ch.swapcase()) if len(v) == 1}


def _matches_one(op: Any, av: Any, ch: str, flags: int) -> bool | None:
    """Whether a one-character item matches ``ch``; None when the item is not a one-character item."""
    ic = bool(flags & re.IGNORECASE)
    ascii_only = bool(flags & re.ASCII)
    dotall = bool(flags & re.DOTALL)
    if op is C.LITERAL:
        return any(ord(v) == av for v in _variants(ch, ic))
    if op is C.NOT_LITERAL:
        return not any(ord(v) == av for v in _variants(ch, ic))
    if op is C.ANY:
        return dotall or ch != "\n"
    if op is C.IN:
        negate = False
        hit = False
        for iop, iav in av:
            if iop is C.NEGATE:
                negate = True
            elif iop is C.LITERAL:
                hit = hit or any(ord(v) == iav for v in _variants(ch, ic))
            elif iop is C.RANGE:
                hit = hit or any(iav[0] <= ord(v) <= iav[1] for v in _variants(ch, ic))
            elif iop is C.CATEGORY:
                hit = hit or _in_category(iav, ch, ascii_only)
            elif iop is C.NOT_LITERAL:  # pragma: no cover - not produced inside IN by the parser
                hit = hit or ord(ch) != iav
        return hit != negate
    return None


def _universe(tree: Any) -> set[str]:
    chars = set(_PROBES)

    def walk(seq: Iterable[Any]) -> None:
        for op, av in seq:
            if op in (C.LITERAL, C.NOT_LITERAL):
                chars.add(chr(av))
            elif op is C.IN:
                for iop, iav in av:
                    if iop is C.LITERAL:
                        chars.add(chr(iav))
                    elif iop is C.RANGE:
                        lo, hi = iav
                        for x in (lo - 1, lo, lo + 1, (lo + hi) // 2, hi - 1, hi, hi + 1):
                            if 0 <= x <= sys.maxunicode and not 0xD800 <= x <= 0xDFFF:
                                chars.add(chr(x))
            for sub in _children(op, av):
                walk(sub)

    walk(tree)
    return {ch for ch in chars if not 0xD800 <= ord(ch) <= 0xDFFF}


def _children(op: Any, av: Any) -> list[Any]:
    if op in (C.MAX_REPEAT, C.MIN_REPEAT, getattr(C, "POSSESSIVE_REPEAT", None)):
        return [av[2]]
    if op is C.SUBPATTERN:
        return [av[3]]
    if op is C.BRANCH:
        return list(av[1])
    if op in (C.ASSERT, C.ASSERT_NOT):
        return [av[1]]
    if op is getattr(C, "ATOMIC_GROUP", None):
        return [av]
    if op is C.GROUPREF_EXISTS:
        return [x for x in av[1:] if x is not None]
    return []


class _Analyzer:
    def __init__(self, ch: str, base_flags: int):
        self.ch = ch
        self.base_flags = base_flags
        self.nested = False

    def seq(self, items: Iterable[Any], flags: int) -> _Info:
        cur = closed = lead = pre = 0
        prefix_t = True
        t = True
        can = multi = False
        for op, av in items:
            x = self.node(op, av, flags)
            closed = max(closed, x.closed, cur + x.lead)
            if prefix_t:
                lead = max(lead, pre + x.lead)
            multi = multi or x.multi
            if x.t:
                cur = max(cur + x.full, x.trail)
                can = can or x.can
                if prefix_t:
                    pre += x.full
            else:
                cur = x.trail
                prefix_t = t = False
        return _Info(t=t, can=t and can, full=pre if t else 0, lead=lead, trail=cur, closed=closed, multi=multi)

    def node(self, op: Any, av: Any, flags: int) -> _Info:
        ch = self.ch
        one = _matches_one(op, av, ch, flags)
        if one is not None:
            return _Info(t=one, can=one, full=0, lead=0, trail=0, closed=0)
        if op is C.AT:
            return self.at(av, flags)
        if op is C.SUBPATTERN:
            _group, add, delete, body = av
            return self.seq(body.data, (flags | add) & ~delete)
        if op is C.BRANCH:
            alts = [self.seq(alt.data, flags) for alt in av[1]]
            takers = [a for a in alts if a.t and a.can]
            through = [a for a in alts if a.t]
            return _Info(
                t=bool(through), can=bool(takers), full=max((a.full for a in through), default=0),
                lead=max(a.lead for a in alts), trail=max(a.trail for a in alts), closed=max(a.closed for a in alts),
                multi=len(takers) >= 2 or any(a.multi for a in alts),
            )
        if op in (C.MAX_REPEAT, C.MIN_REPEAT):
            return self.repeat(av, flags)
        if op is getattr(C, "POSSESSIVE_REPEAT", None) or op is getattr(C, "ATOMIC_GROUP", None):
            body = self.seq((av[2] if op is not getattr(C, "ATOMIC_GROUP", None) else av).data, flags)
            lo = av[0] if op is not getattr(C, "ATOMIC_GROUP", None) else 1
            # No backtracking into it: whatever it took, it keeps; only its own inside can cost.
            return _Info(t=body.t or lo == 0, can=body.can, full=0, lead=0, trail=0, closed=body.closed)
        if op in (C.ASSERT, C.ASSERT_NOT):
            direction, body = av
            b = self.seq(body.data, flags)
            if direction < 0:
                # A lookbehind has a fixed width in Python: a constant cost. Inside a run it sees the run, so
                # "(?<!\s)" lets an attempt start only where a run of spaces begins, not in its middle.
                sees_run = b.t and b.can
                passes = sees_run if op is C.ASSERT else not sees_run
                return _Info(t=passes, can=False, full=0, lead=0, trail=0, closed=b.closed)
            scan = max(b.lead, b.full if b.t else 0, b.trail)
            return _Info(t=True, can=False, full=0, lead=scan, trail=0, closed=b.closed)
        if op is C.GROUPREF_EXISTS:
            alts = [self.seq(x.data, flags) for x in av[1:] if x is not None] or [self.seq([], flags)]
            through = [a for a in alts if a.t]
            return _Info(
                t=bool(through), can=any(a.can for a in through), full=max((a.full for a in through), default=0),
                lead=max(a.lead for a in alts), trail=max(a.trail for a in alts), closed=max(a.closed for a in alts),
            )
        return _OPAQUE  # GROUPREF and anything unknown: a run does not pass through it

    def at(self, code: Any, flags: int) -> _Info:
        multiline = bool(flags & re.MULTILINE)
        ch = self.ch
        if code in (C.AT_BEGINNING, C.AT_END):
            passes = multiline and ch == "\n"
        elif code in (C.AT_BEGINNING_STRING, C.AT_END_STRING):
            passes = False
        elif code in (C.AT_BOUNDARY, C.AT_UNI_BOUNDARY, getattr(C, "AT_LOC_BOUNDARY", None)):
            passes = False  # inside a run of one character there is no word boundary
        else:  # \B and the like: true inside a run
            passes = True
        return _Info(t=passes, can=False, full=0, lead=0, trail=0, closed=0)

    def repeat(self, av: Any, flags: int) -> _Info:
        lo, hi, body = av
        b = self.seq(body.data, flags)
        unbounded = hi is C.MAXREPEAT or hi > BOUND
        if b.t and b.can:
            if unbounded and (b.full >= 1 or b.multi):
                self.nested = True
                return _Info(t=True, can=True, full=_BIG, lead=_BIG, trail=_BIG, closed=_BIG)
            full = 1 if unbounded else b.full * min(hi, 4)
            return _Info(t=True, can=True, full=full, lead=b.lead, trail=max(full, b.trail), closed=b.closed,
                         multi=b.multi)
        if b.t:  # matches only the empty string here
            return _Info(t=True, can=False, full=0, lead=b.lead, trail=b.trail, closed=b.closed)
        across = b.trail + b.lead if hi >= 2 else 0  # the end of one turn next to the start of the next
        return _Info(t=lo == 0, can=False, full=0, lead=b.lead, trail=b.trail, closed=max(b.closed, across))


def findings(pattern: re.Pattern[str] | re.Pattern[bytes] | str, flags: int = 0, *, anchored: bool = False,
             full: bool = False, limit: int = 1) -> list[Finding]:
    """The characters on whose long runs ``pattern`` costs more than linear time, as used with ``search``.

    Args:
        pattern: a compiled pattern or its source.
        flags: flags of a pattern given as source.
        anchored: the pattern is only used with ``match`` or ``fullmatch``: no extra start positions.
        full: the pattern is (also) used with ``fullmatch``: its end must meet the end of the text, so a run at its
            end can fail too.
        limit: the largest degree accepted (1: linear).
    """
    if isinstance(pattern, re.Pattern):
        source, flags = pattern.pattern, pattern.flags
    else:
        source = pattern
    if isinstance(source, bytes):
        source = source.decode("latin-1")
        flags &= ~re.UNICODE
    tree = P.parse(source, flags)
    base = tree.state.flags
    out: list[Finding] = []
    for ch in sorted(_universe(tree.data)):
        an = _Analyzer(ch, base)
        info = an.seq(tree.data, base)
        degree = max(info.closed, info.trail) if full else info.closed
        reason = "quantifiers next to each other share the run"
        if not anchored and not info.t and info.lead + 1 > degree:
            degree, reason = info.lead + 1, "every position of the run starts a new attempt that scans it"
        if an.nested:
            degree, reason = _BIG, "a repeated group takes the run in more than one way"
        if degree > limit:
            out.append(Finding(source, ch, degree, reason))
    return out


# -- the patterns of a package ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Site:
    """One regular expression of the project: where it is defined, and the pattern (compiled)."""

    where: str  # "module.ATTR" or "path:line"
    pattern: re.Pattern[str]
    anchored: bool = False  # used only with match or fullmatch
    full: bool = False  # used with fullmatch


_RE_FUNCS = {"compile": 0, "search": 0, "match": 0, "fullmatch": 0, "sub": 0, "subn": 0, "split": 0,
             "findall": 0, "finditer": 0}


def module_patterns(module: ModuleType) -> Iterator[Site]:
    """Compiled patterns held by a module's globals, also inside tuples, lists, sets and dicts."""

    def walk(name: str, value: Any, depth: int) -> Iterator[Site]:
        if isinstance(value, re.Pattern):
            yield Site(f"{module.__name__}.{name}", value)
        elif depth < 3 and isinstance(value, tuple | list | set | frozenset):
            for i, item in enumerate(value):
                yield from walk(f"{name}[{i}]", item, depth + 1)
        elif depth < 3 and isinstance(value, dict):
            for key, item in value.items():
                yield from walk(f"{name}[{key!r}]", item, depth + 1)

    for name, value in vars(module).items():
        yield from walk(name, value, 0)


@dataclass(frozen=True)
class Unresolved:
    """A call of ``re`` whose pattern the finder cannot read without running the code."""

    where: str
    source: str


def call_sites(module: ModuleType) -> tuple[list[Site], list[Unresolved]]:
    """Patterns written inline in a module's calls of ``re.search(...)`` and friends.

    A pattern is read when it is a string literal (or literals joined with ``+``), a name of the module bound to
    a string or a compiled pattern, or an f-string whose only parts are ``re.escape(...)`` (taken as a literal
    word). Anything else is returned as unresolved, for the caller to account for.
    """
    path = Path(inspect.getsourcefile(module) or "")
    text = path.read_text(encoding="utf-8")
    tree = ast.parse(text)
    sites: list[Site] = []
    unresolved: list[Unresolved] = []
    rel = f"{module.__name__.replace('.', '/')}.py:"
    # ``NAME = re.compile(...)`` at module level: the compiled pattern is read from the module itself.
    compiled_here: set[int] = set()
    for stmt in tree.body:
        target = stmt.targets[0] if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 else (
            stmt.target if isinstance(stmt, ast.AnnAssign) else None)
        if isinstance(target, ast.Name) and isinstance(getattr(module, target.id, None), re.Pattern):
            compiled_here.add(id(stmt.value))
    for node in ast.walk(tree):
        if id(node) in compiled_here:
            continue
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "re"
                and node.func.attr in _RE_FUNCS and node.args):
            continue
        arg = node.args[_RE_FUNCS[node.func.attr]]
        where = f"{rel}{node.lineno}"
        flags = _flags_of(node, module)
        source = _literal(arg, module)
        if source is None:
            unresolved.append(Unresolved(where, ast.get_source_segment(text, arg) or "?"))
            continue
        if isinstance(source, re.Pattern):
            continue  # a module pattern: found by module_patterns
        anchored = node.func.attr in ("match", "fullmatch")
        sites.append(Site(where, re.compile(source, flags), anchored, node.func.attr == "fullmatch"))
    return sites, unresolved


def _literal(arg: ast.expr, module: ModuleType) -> Any:
    try:
        value = ast.literal_eval(arg)
        return value if isinstance(value, str) else None
    except ValueError:
        pass
    if isinstance(arg, ast.Name):
        value = getattr(module, arg.id, None)
        return value if isinstance(value, str | re.Pattern) else None
    if isinstance(arg, ast.BinOp) and isinstance(arg.op, ast.Add):
        left, right = _literal(arg.left, module), _literal(arg.right, module)
        return left + right if isinstance(left, str) and isinstance(right, str) else None
    if isinstance(arg, ast.JoinedStr):
        parts = []
        for value in arg.values:
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                parts.append(value.value)
            elif (isinstance(value, ast.FormattedValue) and isinstance(value.value, ast.Call)
                  and ast.unparse(value.value.func) == "re.escape"):
                parts.append("word")
            else:
                return None
        return "".join(parts)
    return None


# Where each function of ``re`` takes its flags when they are given by position.
_FLAGS_AT = {"compile": 1, "search": 2, "match": 2, "fullmatch": 2, "findall": 2, "finditer": 2, "split": 3, "sub": 4,
             "subn": 4}


def _flags_of(call: ast.Call, module: ModuleType) -> int:
    flags = 0
    exprs = [k.value for k in call.keywords if k.arg == "flags"]
    position = _FLAGS_AT.get(call.func.attr)  # type: ignore[attr-defined]
    if position is not None and len(call.args) > position:
        exprs.append(call.args[position])
    for expr in exprs:
        for name in re.findall(r"re\.([A-Z]+)", ast.unparse(expr)):
            flags |= int(getattr(re, name))
    return flags


def _fullmatched(module: ModuleType) -> set[str]:
    """Names of the module's globals that its code calls ``.fullmatch`` on."""
    tree = ast.parse(Path(inspect.getsourcefile(module) or "").read_text(encoding="utf-8"))
    return {node.func.value.id for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "fullmatch"
            and isinstance(node.func.value, ast.Name)}


def project_patterns(module_names: Iterable[str]) -> tuple[list[Site], list[Unresolved]]:
    """Every pattern of the named modules: their compiled globals and the literals of their ``re`` calls.

    A global pattern counts as used with ``search`` (the costliest), and also with ``fullmatch`` when the module
    calls that on it.
    """
    sites: list[Site] = []
    unresolved: list[Unresolved] = []
    for name in module_names:
        module = importlib.import_module(name)
        full = _fullmatched(module)
        for site in module_patterns(module):
            top = site.where.removeprefix(f"{module.__name__}.").split("[", 1)[0]
            sites.append(Site(site.where, site.pattern, full=top in full))
        found, missing = call_sites(module)
        sites.extend(found)
        unresolved.extend(missing)
    return sites, unresolved
