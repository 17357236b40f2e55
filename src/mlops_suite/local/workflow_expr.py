"""GitHub Actions `${{ }}` expressions: literals, contexts, operators and the built-in functions.

Follows GitHub's documented semantics: `&&`/`||` return an operand, `==` compares strings without
case and coerces mixed types to numbers, a missing property is null, and null interpolates as the
empty string. A context the caller did not provide is an error, as it is on GitHub.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

STATUS_FUNCTIONS = ("success", "failure", "always", "cancelled")


class ExpressionError(ValueError):
    """An expression could not be parsed or evaluated; the message quotes it."""


_TOKEN = re.compile(
    r"\s*(?:(?P<num>-?(?:0x[0-9a-fA-F]+|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?))"
    r"|(?P<str>'(?:[^']|'')*')"
    r"|(?P<op>&&|\|\||==|!=|<=|>=|[<>!()\[\].,*])"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_-]*))"
)


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise ExpressionError(f"cannot parse expression {text!r} at {text[pos:]!r}")
        kind = match.lastgroup or ""
        out.append((kind, match.group(kind)))
        pos = match.end()
    return out


def _number(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if text == "":
            return 0.0
        try:
            return float(int(text, 16)) if text.lower().startswith("0x") else float(text)
        except ValueError:
            return math.nan
    return math.nan


def truthy(value: Any) -> bool:
    """GitHub's truthiness: false, 0, '', null and NaN are falsy; everything else is truthy."""
    if isinstance(value, float) and math.isnan(value):
        return False
    return value not in (None, False, 0, "")


def to_text(value: Any) -> str:
    """How a value reads when interpolated into a string."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dict | list):
        return json.dumps(value, indent=2)
    return str(value)


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.casefold() == b.casefold()
    if type(a) is type(b) or (isinstance(a, dict | list) or isinstance(b, dict | list)):
        return bool(a is b or a == b)
    return _number(a) == _number(b)


def _compare(op: str, a: Any, b: Any) -> bool:
    if op == "==":
        return _equal(a, b)
    if op == "!=":
        return not _equal(a, b)
    if isinstance(a, str) and isinstance(b, str):
        x: Any = a.casefold()
        y: Any = b.casefold()
    else:
        x, y = _number(a), _number(b)
    return bool({"<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y}[op])


def _format(template: str, *args: Any) -> str:
    def sub(match: re.Match[str]) -> str:
        if match.group(0) in ("{{", "}}"):
            return match.group(0)[0]
        index = int(match.group(1))
        if index >= len(args):
            raise ExpressionError(f"format({template!r}) refers to argument {index}, not given")
        return to_text(args[index])

    return re.sub(r"\{\{|\}\}|\{(\d+)\}", sub, template)


def _contains(haystack: Any, needle: Any) -> bool:
    if isinstance(haystack, list):
        return any(_equal(item, needle) for item in haystack)
    return to_text(needle).casefold() in to_text(haystack).casefold()


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "contains": _contains,
    "startswith": lambda s, p: to_text(s).casefold().startswith(to_text(p).casefold()),
    "endswith": lambda s, p: to_text(s).casefold().endswith(to_text(p).casefold()),
    "format": _format,
    "join": lambda items, sep=",": (
        to_text(sep).join(to_text(i) for i in items) if isinstance(items, list) else to_text(items)
    ),
    "tojson": lambda value: json.dumps(value, indent=2),
    "fromjson": lambda text: json.loads(to_text(text)),
}


class _Parser:
    """Recursive descent over the token list; evaluates as it parses (no AST needed)."""

    def __init__(self, text: str, contexts: Mapping[str, Any], status: Mapping[str, bool]):
        self.text = text
        self.tokens = _tokens(text)
        self.pos = 0
        self.contexts = contexts
        self.status = status

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (value is not None and token[1] != value):
            raise ExpressionError(f"expected {value or 'a value'} in expression {self.text!r}")
        self.pos += 1
        return token

    def parse(self) -> Any:
        value = self.or_()
        if self.peek() is not None:
            raise ExpressionError(f"unexpected {self.peek()[1]!r} in expression {self.text!r}")  # type: ignore[index]
        return value

    def or_(self) -> Any:
        value = self.and_()
        while self.peek() == ("op", "||"):
            self.take()
            right = self.and_()
            value = value if truthy(value) else right
        return value

    def and_(self) -> Any:
        value = self.compare()
        while self.peek() == ("op", "&&"):
            self.take()
            right = self.compare()
            value = right if truthy(value) else value
        return value

    def compare(self) -> Any:
        value = self.unary()
        while (
            (tok := self.peek()) and tok[0] == "op" and tok[1] in ("==", "!=", "<", "<=", ">", ">=")
        ):
            self.take()
            value = _compare(tok[1], value, self.unary())
        return value

    def unary(self) -> Any:
        if self.peek() == ("op", "!"):
            self.take()
            return not truthy(self.unary())
        return self.postfix(self.primary())

    def postfix(self, value: Any) -> Any:
        while (tok := self.peek()) and tok in (("op", "."), ("op", "[")):
            self.take()
            if tok[1] == ".":
                kind, name = self.take()
                if kind != "name":
                    raise ExpressionError(f"expected a property name in {self.text!r}")
                key: Any = name
            else:
                key = self.or_()
                self.take("]")
            value = _index(value, key)
        return value

    def primary(self) -> Any:
        kind, text = self.take()
        if kind == "num":
            return _number(text)
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind == "op" and text == "(":
            value = self.or_()
            self.take(")")
            return value
        if kind != "name":
            raise ExpressionError(f"unexpected {text!r} in expression {self.text!r}")
        if text in ("true", "false"):
            return text == "true"
        if text == "null":
            return None
        if self.peek() == ("op", "("):
            return self.call(text)
        if text not in self.contexts:
            known = ", ".join(sorted(self.contexts))
            raise ExpressionError(
                f"unrecognized context {text!r} in expression {self.text!r} (given: {known})"
            )
        return self.contexts[text]

    def call(self, name: str) -> Any:
        self.take("(")
        args = []
        while self.peek() != ("op", ")"):
            args.append(self.or_())
            if self.peek() == ("op", ","):
                self.take()
        self.take(")")
        lowered = name.lower()
        if lowered in STATUS_FUNCTIONS:
            return self.status[lowered]
        if lowered == "hashfiles":
            func = self.contexts.get("__hashfiles__")
            if func is None:
                raise ExpressionError(f"hashFiles is not available in {self.text!r}")
            return func(*args)
        if lowered not in FUNCTIONS:
            raise ExpressionError(f"unknown function {name}() in expression {self.text!r}")
        return FUNCTIONS[lowered](*args)


def _index(value: Any, key: Any) -> Any:
    if isinstance(value, Mapping):
        if isinstance(key, str):
            for k, v in value.items():
                if isinstance(k, str) and k.casefold() == key.casefold():
                    return v
        return None
    if isinstance(value, list) and isinstance(key, int | float) and not isinstance(key, bool):
        index = int(key)
        return value[index] if 0 <= index < len(value) else None
    return None


def evaluate(
    text: str, contexts: Mapping[str, Any], status: Mapping[str, bool] | None = None
) -> Any:
    """Evaluate one expression (without the `${{ }}`) against `contexts`."""
    default = {"success": True, "failure": False, "always": True, "cancelled": False}
    return _Parser(text, contexts, status or default).parse()


_INTERPOLATION = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)


def interpolate(value: Any, contexts: Mapping[str, Any]) -> Any:
    """Fill every `${{ }}` in a string (recursively in lists and mappings)."""
    if isinstance(value, str):
        whole = _INTERPOLATION.fullmatch(value)
        if whole and "}}" not in whole.group(1):
            result = evaluate(whole.group(1), contexts)
            return to_text(result) if not isinstance(result, dict | list) else result
        return _INTERPOLATION.sub(lambda m: to_text(evaluate(m.group(1), contexts)), value)
    if isinstance(value, list):
        return [interpolate(v, contexts) for v in value]
    if isinstance(value, Mapping):
        return {k: interpolate(v, contexts) for k, v in value.items()}
    if isinstance(value, bool):
        return to_text(value)
    return value


def condition(text: Any, contexts: Mapping[str, Any], status: Mapping[str, bool]) -> bool:
    """Evaluate an `if:`; without a status function it means `success() && (...)`."""
    if text is None or text == "":
        return status["success"]
    if isinstance(text, bool):
        return text and status["success"]
    expr = str(text).strip()
    whole = _INTERPOLATION.fullmatch(expr)
    if whole and "}}" not in whole.group(1):
        expr = whole.group(1)
    if not re.search(r"\b(" + "|".join(STATUS_FUNCTIONS) + r")\s*\(", expr, re.IGNORECASE):
        expr = f"success() && ({expr})"
    return truthy(evaluate(expr, contexts, status))
