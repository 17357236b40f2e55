"""The guides say what exists: the data scientist guide lists exactly the kinds on offer."""

from __future__ import annotations

import re
from pathlib import Path

from mlops_suite import rendering

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_data_scientist_guide_lists_exactly_the_kinds() -> None:
    text = (DOCS / "data-scientist-guide.md").read_text(encoding="utf-8")
    table = text.split("<!-- kinds:", 1)[1].split("<!-- /kinds -->", 1)[0]
    listed = re.findall(r"^\| `([a-z-]+)` \|", table, flags=re.MULTILINE)
    assert listed == rendering.kinds()


def test_guides_name_no_kind_that_does_not_exist() -> None:
    known = set(rendering.kinds())
    future = {
        "realtime-inference", "batch-inference", "byoc", "llm-training", "pipeline-promotion",
        "model-training",
    }  # fmt: skip
    for guide in ("data-scientist-guide.md", "approver-guide.md"):
        text = (DOCS / guide).read_text(encoding="utf-8")
        named = {kind for kind in future if f"`{kind}`" in text}
        assert named <= known, f"{guide} names kinds that do not exist yet: {sorted(named - known)}"
