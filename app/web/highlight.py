"""Evidence highlighting: the explanation's aligned sentences and shared terms marked in a profile text."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from markupsafe import Markup, escape

from matching.retrieval.bm25 import surface_forms

_WORD = re.compile(r"(?u)\b\w\w+\b")


def term_stems(terms: Iterable[str]) -> frozenset[str]:
    """Stems of the explanation's shared terms, so "bearings" also marks "bearing" in the other text."""
    return frozenset(surface_forms(" ".join(terms)))


def _sentence_spans(text: str, sentences: Sequence[str]) -> list[tuple[int, int, int]]:
    """(start, end, pair number) of each sentence found in `text`, ignoring differences in white space."""
    spans: list[tuple[int, int, int]] = []
    for number, sentence in enumerate(sentences, start=1):
        words = sentence.split()
        if not words:
            continue
        found = re.search(r"\s+".join(map(re.escape, words)), text)
        if found is None:
            continue
        start, end = found.span()
        if all(end <= s or start >= e for s, e, _ in spans):
            spans.append((start, end, number))
    return sorted(spans)


def _terms(text: str, stems: frozenset[str]) -> Markup:
    out: list[str] = []
    at = 0
    for word in _WORD.finditer(text):
        if set(surface_forms(word.group())) & stems:
            out.append(escape(text[at : word.start()]))
            out.append(Markup('<mark class="term">{}</mark>').format(word.group()))
            at = word.end()
    out.append(escape(text[at:]))
    return Markup("").join(out)


def highlight(text: str, *, sentences: Sequence[str], stems: frozenset[str]) -> Markup:
    """`text` escaped, aligned sentences in <mark class="sentence"> (numbered), shared terms in <mark class="term">."""
    out: list[Markup] = []
    at = 0
    for start, end, number in _sentence_spans(text, sentences):
        out.append(_terms(text[at:start], stems))
        out.append(
            Markup('<mark class="sentence" data-pair="{n}" title="evidence {n}"><sup>{n}</sup>{body}</mark>').format(
                n=number, body=_terms(text[start:end], stems)
            )
        )
        at = end
    out.append(_terms(text[at:], stems))
    return Markup("").join(out)
