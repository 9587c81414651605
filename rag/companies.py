"""English and Chinese names of China's innovative-drug companies, so that "君实生物" finds "Junshi Biosciences".

An investor asks in Chinese about an English filing (or the other way round); without the other language's name
the company gate would refuse the question, and keyword search would miss the filing. Each entry lists the
names a passage may use (the table is data: rag/lexicon/companies.yaml); a question's entity (an English word, or the two-character stem of a Chinese name, see
``rag.intent.chinese_companies``) matches a passage when any name of its company is in it.
"""

from __future__ import annotations

import re
from functools import lru_cache

from rag.lexicon import default_lexicon

# (English names and tickers, Chinese names), from rag/lexicon/companies.yaml. The first English name is the usual
# short one.
COMPANIES: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = tuple(
    (c.en + c.tickers, c.zh) for c in default_lexicon().companies)


# The sector or corporate suffix of a Chinese company name (君实生物, 恒瑞医药, 石药集团).
ZH_SUFFIX = re.compile(r"生物|医药|药业|制药|集团|控股|股份|科技")


@lru_cache(maxsize=1)
def _index() -> dict[str, frozenset[str]]:
    """Each name (lower case), each distinctive English word and each Chinese stem -> all names of its company."""
    out: dict[str, set[str]] = {}
    for en, zh in COMPANIES:
        # The stem a question's Chinese name is reduced to (君实 of 君实生物), where it is distinctive.
        stems = {z[:2] for z in zh if len(z) == 4 and ZH_SUFFIX.fullmatch(z[2:]) and z[:2] not in ("中国",)}
        names = {n.lower() for n in en} | set(zh) | stems
        keys = set(names)
        keys |= {n.split()[0].lower() for n in en}  # "Zai" of "Zai Lab" (entities are single words)
        for key in keys:
            out.setdefault(key, set()).update(names)
    return {k: frozenset(v) for k, v in out.items()}


def names_of(entity: str) -> frozenset[str]:
    """The lower-case names a passage may use for a question's entity: its company's names, or itself."""
    key = entity.lower()
    return _index().get(key, frozenset()) | {key}


def mentions(entity: str, text_lower: str) -> bool:
    """Whether a (lower-case) text names the entity, in English or Chinese."""
    return any(name in text_lower for name in names_of(entity))


def multiword_names(question: str) -> list[tuple[str, str]]:
    """(name as written, first word) of each multi-word English company name in the question ("Zai Lab")."""
    out = []
    for en, _zh in COMPANIES:
        for name in en:
            if " " in name:
                m = re.search(rf"(?<![A-Za-z]){re.escape(name)}(?![A-Za-z])", question, re.IGNORECASE)
                if m:
                    out.append((m.group(), name.split()[0]))
    return out
