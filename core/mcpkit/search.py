"""Searching tools by what they do: the ``bm25`` search strategy and the text it indexes.

Every tool becomes a :class:`SearchDocument`: its name split into words (camelCase, snake_case,
kebab-case, slashes and dots), title, description, tags, ``search_terms`` (generated tools add their
HTTP method as intent words and their path segments) and its parameters' names and descriptions.
Words are lowercased and stemmed (Snowball, English), so "creating repositories" finds
``repos/create``. The index is BM25 over weighted fields: a word in the name counts more than one in
a parameter's description.

Other strategies (embeddings, ...) are plugins: ``mcpkit_register_search_strategies``.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import snowballstemmer

if TYPE_CHECKING:
    from mcpkit.components import Tool

_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_STOPWORD_TEXT = (
    "a an and are as at be by for from has have how i in into is it its me my of on or our please "
    "that the their them these this those to was we what when where which with you your"
)
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())
_STEMMER = snowballstemmer.stemmer("english")

FIELD_WEIGHTS: Mapping[str, int] = {
    "name": 4,
    "title": 3,
    "tags": 2,
    "terms": 2,
    "description": 1,
    "parameters": 1,
}
"""How many times a word of each field counts."""


@dataclass(frozen=True)
class SearchDocument:
    """What is searchable about one tool, by field (see :data:`FIELD_WEIGHTS`)."""

    name: str
    fields: Mapping[str, str] = field(default_factory=dict)


class SearchIndex(Protocol):
    """A built index: ``search(query, limit)`` gives tool names, best match first."""

    def search(self, query: str, limit: int) -> list[str]:
        """At most ``limit`` names of the tools matching ``query``, best first."""
        ...


SearchStrategy = Callable[[Sequence[SearchDocument]], SearchIndex]
"""A search strategy builds an index from the tools' documents."""


@functools.lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return str(_STEMMER.stemWord(word))


def words(text: str) -> list[str]:
    """``text`` as stemmed, lowercased words, stopwords left out (``listRepoIssues`` -> list, repo, issu)."""
    found = []
    for word in _WORDS.findall(text):
        lowered = word.lower()
        if lowered not in _STOPWORDS:
            found.append(_stem(lowered))
    return found


def document_for(tool: Tool) -> SearchDocument:
    """The searchable text of ``tool``."""
    parameters: list[str] = []
    for name, schema in (tool.input_schema.get("properties") or {}).items():
        parameters.append(str(name))
        if isinstance(schema, dict) and isinstance(schema.get("description"), str):
            parameters.append(schema["description"])
    return SearchDocument(
        tool.name,
        {
            "name": tool.name,
            "title": tool.title or (tool.annotations.title if tool.annotations else None) or "",
            "tags": " ".join(sorted(tool.tags)),
            "terms": " ".join(tool.search_terms),
            "description": tool.description or "",
            "parameters": " ".join(parameters),
        },
    )


class BM25Index:
    """Okapi BM25 over weighted fields (``k1=1.2``, ``b=0.75``)."""

    def __init__(self, documents: Sequence[SearchDocument], k1: float = 1.2, b: float = 0.75) -> None:
        self._names = [document.name for document in documents]
        self._postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        lengths = []
        for index, document in enumerate(documents):
            counts: Counter[str] = Counter()
            for field_name, text in document.fields.items():
                weight = FIELD_WEIGHTS.get(field_name, 1)
                for word in words(text):
                    counts[word] += weight
            lengths.append(sum(counts.values()))
            for word, count in counts.items():
                self._postings[word].append((index, count))
        average = (sum(lengths) / len(lengths)) if lengths else 1.0
        self._norms = [k1 * (1 - b + b * length / average) for length in lengths]
        total = len(documents)
        self._idf = {
            word: math.log(1 + (total - len(postings) + 0.5) / (len(postings) + 0.5))
            for word, postings in self._postings.items()
        }
        self._k1 = k1

    def search(self, query: str, limit: int) -> list[str]:
        """The best ``limit`` tool names for ``query``; tools sharing no word with it are left out."""
        scores: dict[int, float] = defaultdict(float)
        for word in set(words(query)):
            idf = self._idf.get(word)
            if idf is None:
                continue
            for index, count in self._postings[word]:
                scores[index] += idf * count * (self._k1 + 1) / (count + self._norms[index])
        best = sorted(scores.items(), key=lambda item: (-item[1], self._names[item[0]]))[:limit]
        return [self._names[index] for index, _ in best]


def bm25_strategy(documents: Sequence[SearchDocument]) -> SearchIndex:
    """The built-in ``bm25`` search strategy."""
    return BM25Index(documents)


def build_index(strategy: SearchStrategy, tools: Iterable[Tool]) -> SearchIndex:
    """An index of ``tools`` built by ``strategy``."""
    return strategy([document_for(tool) for tool in tools])
