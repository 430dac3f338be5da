"""Response filters: JMESPath expressions from the model, evaluated within a budget of work.

A filter is hostile input. ``'a' | [@,@] | [@,@] | ...`` doubles its result at each step by sharing,
so a 200-character expression describes gigabytes of JSON; ``join`` and ``[]`` (flatten) build real
copies of that size, and comparing or serialising shared values walks every copy. So the interpreter
counts its work in steps, and refuses the filter when the budget runs out:

- one step for each node of the expression it evaluates (per item, inside projections);
- one step for each item of a list or object it builds or walks (flattening, slicing, sorting,
  function arguments), one per 8 characters of a string it builds or scans;
- comparing two lists or objects, ``contains``, ``to_string`` and the final result are sized as JSON
  first, shared parts counted each time they appear (:func:`json_size`), and cost that size.

This module imports jmespath: import it where a filter is compiled, not at start-up.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import TYPE_CHECKING, Any, NoReturn

import jmespath
from jmespath import exceptions as jmespath_errors
from jmespath.functions import Functions
from jmespath.visitor import Options, TreeInterpreter

from mcpkit import ToolError

if TYPE_CHECKING:
    from jmespath.parser import ParsedResult
    from jmespath.visitor import _TreeNode

MAX_EXPRESSION_CHARS = 2_000
"""Longest ``response_filter`` expression accepted."""

STEPS = 250_000
"""Steps a filter may take on any response; it gets one more per 4 bytes of the response."""

CHECK_EVERY = 512
"""Steps between two checks for cancellation (and chances for other threads to run)."""

MEMO_SIZE = 256
"""Values sized at least this large are remembered, so shared parts are walked once."""


class Exhausted(ToolError):
    """The filter needs more steps than its budget."""


class Budget:
    """The steps a filter may still take; ``check`` runs every :data:`CHECK_EVERY` steps (it raises to
    stop the work, e.g. when the call was cancelled)."""

    def __init__(self, steps: int, check: Callable[[], None] | None = None) -> None:
        self.steps = steps
        self.left = steps
        self.next_check = max(steps - CHECK_EVERY, 0)
        self._check = check

    @classmethod
    def for_response(cls, size: int, check: Callable[[], None] | None = None) -> Budget:
        """The budget of a filter on a response of ``size`` bytes: :data:`STEPS`, one more per 4 bytes."""
        return cls(STEPS + size // 4, check)

    def spend(self, steps: int) -> None:
        """Take ``steps`` from the budget; raise :class:`Exhausted` when it runs out."""
        self.left -= steps
        if self.left < self.next_check:
            self.checkpoint()

    def checkpoint(self) -> None:
        """Raise :class:`Exhausted` if the budget ran out, else run ``check`` and yield the GIL."""
        if self.left < 0:
            self.exhaust()
        self.next_check = max(self.left - CHECK_EVERY, 0)
        if self._check is not None:
            self._check()
            time.sleep(0)  # let the event loop's thread run between slices of work

    def exhaust(self) -> NoReturn:
        """Raise :class:`Exhausted`: the work asked for is more than the budget."""
        self.left = -1
        raise Exhausted(
            f"response_filter needs more than {self.steps:,} steps of work, its budget for this response: "
            "simplify it, or ask for fewer items"
        )


def json_size(value: Any, limit: int, memo: dict[int, tuple[Any, int]] | None = None) -> int | None:
    """About how many characters ``value`` takes as compact JSON (numbers count 8, escapes 1), or
    ``None`` as soon as that is more than ``limit``. Shared parts count each time they appear; with a
    ``memo``, those of :data:`MEMO_SIZE` or more are walked once (the memo keeps them alive, so their
    ids stay theirs)."""
    memo = {} if memo is None else memo
    size = _known_size(value, memo)
    if size is not None:
        return size if size <= limit else None
    # An explicit stack, not recursion: a response may nest 1,024 levels, deeper than Python allows.
    # Each frame: a list or object, its remaining children, its size so far.
    total = _shell_size(value)
    stack: list[tuple[Any, Iterator[Any], list[int]]] = [(value, _children(value), [total])]
    while total <= limit:
        container, children, counted = stack[-1]
        child: Any = next(children, _END)
        if child is _END:
            stack.pop()
            if counted[0] >= MEMO_SIZE:
                memo[id(container)] = (container, counted[0])
            if not stack:
                return counted[0]
            stack[-1][2][0] += counted[0]
            continue
        size = _known_size(child, memo)
        if size is None:
            size = _shell_size(child)
            stack.append((child, _children(child), [size]))
        else:
            counted[0] += size
        total += size
    return None


_END = object()


def _known_size(value: Any, memo: dict[int, tuple[Any, int]]) -> int | None:
    """The size of a scalar, or of a list or object sized before; ``None`` otherwise."""
    if isinstance(value, str):
        return len(value) + 2
    if isinstance(value, (dict, list)):
        known = memo.get(id(value))
        return None if known is None else known[1]
    return 8


def _shell_size(container: dict[str, Any] | list[Any]) -> int:
    """The size of a list or object without its values: brackets, commas, keys."""
    if isinstance(container, dict):
        return 2 + sum(len(key) + 4 for key in container)
    return 2 + len(container)


def _children(container: dict[str, Any] | list[Any]) -> Iterator[Any]:
    return iter(container.values()) if isinstance(container, dict) else iter(container)


class Filter:
    """A compiled ``response_filter`` expression."""

    def __init__(self, parsed: ParsedResult) -> None:
        self.expression = parsed.expression
        self._parsed = parsed

    def search(self, data: Any, budget: Budget) -> Any:
        """The expression applied to ``data`` within ``budget``; failures raise ToolError."""
        interpreter = _Interpreter(budget)
        try:
            return interpreter.visit(self._parsed.parsed, data)
        except jmespath_errors.JMESPathTypeError as exc:
            expected = ", ".join(exc.expected_types)
            raise ToolError(
                f"response_filter {self.expression!r} failed: {exc.function_name}() takes {expected}, "
                f"not {exc.actual_type}"
            ) from None
        except jmespath_errors.JMESPathError as exc:
            raise ToolError(f"response_filter {self.expression!r} failed: {_one_line(exc)}") from None
        except RecursionError:
            raise ToolError(f"response_filter {self.expression!r} nests too deeply") from None
        except (ArithmeticError, ValueError, TypeError) as exc:  # ceil(to_number('1e400')), [::0]
            raise ToolError(f"response_filter {self.expression!r} failed: {exc}") from None


def compile_filter(expression: str) -> Filter:
    """A compiled JMESPath ``expression``; an invalid or overlong one raises :class:`~mcpkit.ToolError`."""
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise ToolError(
            f"response_filter is {len(expression):,} characters long; at most {MAX_EXPRESSION_CHARS:,} "
            "are accepted"
        )
    try:
        return Filter(jmespath.compile(expression))
    except jmespath_errors.JMESPathError as exc:
        raise ToolError(
            f"response_filter {expression!r} is not a valid JMESPath expression: {_one_line(exc)}"
        ) from None
    except RecursionError:
        raise ToolError(f"response_filter {expression!r} nests too deeply") from None


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())


class _Interpreter(TreeInterpreter):
    """JMESPath's own interpreter, charging its work to a :class:`Budget` before doing it. Where the
    charge depends on an evaluated operand (flatten), it is evaluated here and handed to JMESPath's
    method as a literal."""

    def __init__(self, budget: Budget) -> None:
        super().__init__(Options(custom_functions=_Functions(self)))
        self.budget = budget
        self.memo: dict[int, tuple[Any, int]] = {}
        comparisons = TreeInterpreter.COMPARATOR_FUNC.items()  # per instance: they charge this budget
        self.COMPARATOR_FUNC = {name: partial(self.compare, f) for name, f in comparisons}  # type: ignore[misc]

    def visit(self, node: _TreeNode, *args: Any, **kwargs: Any) -> Any:
        budget = self.budget
        budget.left -= 1  # spend(1), inlined: this runs for every node and item
        if budget.left < budget.next_check:
            budget.checkpoint()
        return super().visit(node, *args, **kwargs)

    def size(self, value: Any) -> int:
        """``value``'s JSON size; one larger than the budget could pay for (a step per 8 characters)
        exhausts it."""
        size = json_size(value, self.budget.left * 8, self.memo)
        if size is None:
            self.budget.exhaust()
        return size

    def visit_flatten(self, node: _TreeNode, value: Any) -> Any:
        base = self.visit(node["children"][0], value)
        if isinstance(base, list):
            self.budget.spend(sum(len(item) if isinstance(item, list) else 1 for item in base))
        return super().visit_flatten({**node, "children": [_literal(base)]}, value)

    def visit_slice(self, node: _TreeNode, value: Any) -> Any:
        bounds: list[Any] = list(node["children"])  # a slice's are numbers or None, not nodes
        start, stop, step = bounds
        if isinstance(value, list) and step != 0:
            self.budget.spend(len(range(len(value))[slice(start, stop, step)]))
        return super().visit_slice(node, value)

    def compare(self, comparison: Callable[[Any, Any], Any], left: Any, right: Any) -> Any:
        """``comparison(left, right)``, charged first: equal lists or objects may be walked whole."""
        if isinstance(left, (list, dict)) and isinstance(right, (list, dict)):
            if type(left) is type(right) and len(left) == len(right) and left is not right:
                limit = self.budget.left * 8
                sizes = [s for s in (json_size(v, limit, self.memo) for v in (left, right)) if s is not None]
                if not sizes:
                    self.budget.exhaust()
                self.budget.spend(min(sizes) // 8)  # the walk stops with the smaller
        elif isinstance(left, str) and isinstance(right, str):
            self.budget.spend(min(len(left), len(right)) // 8)
        return comparison(left, right)


def _literal(value: Any) -> _TreeNode:
    return {"type": "literal", "value": value, "children": []}


class _Functions(Functions):
    """JMESPath's functions, their work charged first: the items and characters of their arguments,
    and what sorting, joining, ``contains`` and ``to_string`` add to that."""

    def __init__(self, interpreter: _Interpreter) -> None:
        self._interpreter = interpreter

    def call_function(self, function_name: str, resolved_args: Iterable[Any]) -> Any:
        arguments = list(resolved_args)
        budget = self._interpreter.budget
        for argument in arguments:
            if isinstance(argument, str):
                budget.spend(len(argument) // 8)
            elif isinstance(argument, (list, dict)):
                budget.spend(len(argument))
        first = arguments[0] if arguments else None
        last = arguments[-1] if arguments else None
        if function_name in ("sort", "sort_by") and isinstance(first, list):
            budget.spend(len(first) * math.ceil(math.log2(len(first) + 1)))
        elif function_name == "join" and isinstance(first, str) and isinstance(last, list):
            characters = sum(len(item) for item in last if isinstance(item, str))
            budget.spend((characters + len(first) * len(last)) // 8)
        elif function_name == "contains" and isinstance(first, list) and isinstance(last, (list, dict)):
            budget.spend(len(first) * (self._interpreter.size(last) // 8))
        elif function_name == "to_string" and isinstance(first, (list, dict)):
            budget.spend(self._interpreter.size(first) // 8)
        return super().call_function(function_name, arguments)
