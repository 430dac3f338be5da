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
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from mcpkit.components import Tool

_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_STOPWORD_TEXT = (
    "a an and are as at be by for from has have how i in into is it its me my of on or our please "
    "that the their them these this those to was we what when where which with you your"
)
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())

FIELDS: Mapping[str, tuple[float, float]] = {
    "name": (3.0, 0.5),
    "title": (3.0, 0.5),
    "tags": (1.0, 0.3),
    "terms": (1.5, 0.3),
    "description": (0.6, 0.75),
    "parameters": (0.4, 0.75),
}
"""Per field: how much a word there counts, and how much the field's length dampens it (BM25F)."""

SYNONYMS: Mapping[str, str] = {
    # what people say -> the words APIs use (whole phrases are matched before single words)
    "money back": "refund",
    "sign up": "create customer register",
    "log in": "login session token",
    "logged in": "me current user profile",
    "who am i": "me current user profile",
    "pull request": "pull",
    "merge request": "pull merge",
    "time spent": "worklog",
    "log time": "worklog",
    "hours of work": "worklog",
    "ticket": "issue",
    "bug": "issue",
    "pr": "pull",
    "prs": "pull",
    "copy": "fork",
    "clone": "fork",
    "teammate": "collaborator member",
    "colleague": "collaborator member",
    "snippet": "gist",
    "paste": "gist",
    "reimburse": "refund",
    "bill": "invoice",
    "discount": "coupon promotion",
    "voucher": "coupon",
    "promo": "coupon promotion",
    "withdraw": "payout",
    "funds": "balance",
    "song": "track",
    "songs": "track",
    "tune": "track",
    "screenshot": "attachment",
    "upvote": "vote",
    "downvote": "vote",
    "newest": "latest",
    "recent": "latest",
    "starred": "stargazer star",
    "favorite": "star",
    "tag": "label",
    "podcast": "show episode",
    "similar": "related",
    "profile": "me user",
    "email": "search",
    "find": "search",
    "look up": "search",
    "repository": "repo",
    "repositories": "repo",
    "how much money": "balance",
    "send money": "payout transfer",
    "done": "transition status",
}
"""Everyday words mapped to the words APIs use for the same thing, added to a query's words."""

_INTENT_TEXT = {
    "create": "create make new add open start register file write leave post publish ship submit issue "
    "share upload attach invite send put save",
    "delete": "delete remove erase destroy drop cancel stop revoke unsubscribe discard",
    "update": "update change edit modify rename set move switch replace assign transition",
    "read": "get show list find search look see view fetch read which who what how",
}
INTENTS: Mapping[str, frozenset[str]] = {
    intent: frozenset(text.split()) for intent, text in _INTENT_TEXT.items()
}
"""Words that say what a query wants done; tools whose HTTP intent words agree rank higher."""


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


@functools.cache
def _stemmer() -> Any:
    import snowballstemmer  # imported on the first search: servers that never search do without it

    return snowballstemmer.stemmer("english")


@functools.lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return str(_stemmer().stemWord(word))


def words(text: str) -> list[str]:
    """``text`` as stemmed, lowercased words, stopwords left out (``listRepoIssues`` -> list, repo, issu)."""
    found = []
    for word in _WORDS.findall(text):
        lowered = word.lower()
        if lowered not in _STOPWORDS:
            found.append(_stem(lowered))
    return found


def _intents(text: str) -> frozenset[str]:
    """The intents (:data:`INTENTS`) whose words appear in ``text``."""
    present = {word.lower() for word in _WORDS.findall(text)}
    return frozenset(intent for intent, vocabulary in INTENTS.items() if present & vocabulary)


def expand(query: str) -> dict[str, float]:
    """The query's words with their weights: its own words count 1, synonyms (:data:`SYNONYMS`) 0.8."""
    text = " " + " ".join(_WORDS.findall(query.lower())) + " "
    weights: dict[str, float] = {word: 1.0 for word in words(query)}
    for phrase, replacement in SYNONYMS.items():
        if f" {phrase} " in text:
            for word in words(replacement):
                weights.setdefault(word, 0.8)
    return weights


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
    """BM25F: BM25 over fields, each with its own weight and length normalisation (``k1=1.2``)."""

    def __init__(self, documents: Sequence[SearchDocument], k1: float = 1.2) -> None:
        self._names = [document.name for document in documents]
        self._k1 = k1
        tokenized = [{f: words(text) for f, text in document.fields.items()} for document in documents]
        average = {
            f: (sum(len(doc.get(f, ())) for doc in tokenized) / len(tokenized)) or 1.0 if tokenized else 1.0
            for f in FIELDS
        }
        self._postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for index, fields in enumerate(tokenized):
            weighted: dict[str, float] = defaultdict(float)
            for field_name, tokens in fields.items():
                weight, b = FIELDS.get(field_name, (1.0, 0.75))
                norm = 1 - b + b * len(tokens) / average.get(field_name, 1.0)
                for word, count in Counter(tokens).items():
                    weighted[word] += weight * count / norm
            for word, value in weighted.items():
                self._postings[word].append((index, value))
        self._specificity = [1 + 0.08 * max(0, len(words(d.fields.get("name", ""))) - 2) for d in documents]
        self._intents = [
            _intents(" ".join(d.fields.get(f, "") for f in ("name", "title", "terms"))) for d in documents
        ]
        total = len(documents)
        self._idf = {
            word: math.log(1 + (total - len(postings) + 0.5) / (len(postings) + 0.5))
            for word, postings in self._postings.items()
        }

    def search(self, query: str, limit: int) -> list[str]:
        """The best ``limit`` tool names for ``query``; tools sharing no word with it are left out."""
        scores: dict[int, float] = defaultdict(float)
        for word, weight in expand(query).items():
            idf = self._idf.get(word)
            if idf is None:
                continue
            for index, value in self._postings[word]:
                scores[index] += weight * idf * value * (self._k1 + 1) / (value + self._k1)
        wanted = _intents(query)
        for index in scores:
            scores[index] *= (1.5 if wanted & self._intents[index] else 1.0) / self._specificity[index]
        best = sorted(scores.items(), key=lambda item: (-item[1], self._names[item[0]]))[:limit]
        return [self._names[index] for index, _ in best]


def bm25_strategy(documents: Sequence[SearchDocument]) -> SearchIndex:
    """The built-in ``bm25`` search strategy."""
    return BM25Index(documents)


def build_index(strategy: SearchStrategy, tools: Iterable[Tool]) -> SearchIndex:
    """An index of ``tools`` built by ``strategy``."""
    return strategy([document_for(tool) for tool in tools])
