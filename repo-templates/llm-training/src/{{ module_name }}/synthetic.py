"""The synthetic instruction task shipped in data/numbers.jsonl: number words to digits.

Small enough for a tiny model to learn on a CPU within the local run's steps, and compositional
("forty" and "two" give "4" and "2"), so held-out rows test more than memory.
"""

from __future__ import annotations

from typing import Any

UNITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
TEENS = [
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
TEMPLATES: list[tuple[str, str]] = [
    ("Write {words} in digits.", ""),
    ("What number is {words}?", ""),
    ("Give the numeral for {words}.", ""),
    ("Convert the words to a number.", "{words}"),
]


def words(n: int) -> str:
    """Return 0-99 in English words, e.g. 42 -> "forty two"."""
    if not 0 <= n <= 99:
        raise ValueError(f"{n} is outside 0-99")
    if n < 10:
        return UNITS[n]
    if n < 20:
        return TEENS[n - 10]
    tens, units = divmod(n, 10)
    return TENS[tens] if units == 0 else f"{TENS[tens]} {UNITS[units]}"


def rows() -> list[dict[str, Any]]:
    """Return every row of the task, in a fixed order: each number under each phrasing."""
    out = []
    for n in range(100):
        for instruction, text in TEMPLATES:
            row = {"instruction": instruction.format(words=words(n)), "output": str(n)}
            if text:
                row["input"] = text.format(words=words(n))
            out.append(row)
    return out
