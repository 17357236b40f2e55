"""Code and docs speak of the project, not of the tracker: no issue numbers in tracked files."""

from __future__ import annotations

import re

from mlops_suite import rendering

ISSUE = re.compile(r"\bissues? ?#?\d+\b|\(#\d+\)", re.IGNORECASE)


def test_no_issue_numbers_in_code_or_docs() -> None:
    found = []
    for rel in rendering.suite_files():
        path = rendering.SUITE_ROOT / rel
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        found += [f"{rel}:{n}" for n, line in enumerate(text.splitlines(), 1) if ISSUE.search(line)]
    assert not found, f"say what the code does, not which issue asked for it: {found}"
