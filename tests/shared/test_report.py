"""The shared HTML evaluation report: every plot, the marked threshold and the metrics."""

from __future__ import annotations

import importlib.util
import sys
from html.parser import HTMLParser
from pathlib import Path
from types import ModuleType

SOURCE = Path(__file__).resolve().parents[2] / "repo-templates" / "_shared" / "python" / "report.py"


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("shared_report", SOURCE)
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["shared_report"] = module
    spec.loader.exec_module(module)
    return module


class Outline(HTMLParser):
    """Collect the elements a reader sees: headings, figures, their points, table cells."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.text.append(data.strip())


def outline(document: str) -> Outline:
    parser = Outline()
    parser.feed(document)
    return parser


def test_the_report_holds_each_plot_the_threshold_and_the_metrics() -> None:
    report = load()
    roc = report.Curve(
        "ROC curve", "false positive rate", "true positive rate",
        [0.0, 0.1, 1.0], [0.0, 0.8, 1.0], marker=(0.1, 0.8), marker_label="threshold 0.5",
        diagonal=True,
    )  # fmt: skip
    pr = report.Curve("Precision-recall curve", "recall", "precision", [0, 0.8, 1], [1, 0.9, 0.5])
    document = report.render(
        report.Report(
            title="Evaluation of churn-model",
            metrics={"auc": 0.9512, "accuracy": 0.9},
            curves=[roc, pr],
            confusion=[[50, 3], [4, 43]],
            classes=["benign", "malignant"],
        )
    )
    seen = outline(document)
    svgs = [attrs for tag, attrs in seen.tags if tag == "svg"]
    assert [a["aria-label"] for a in svgs] == ["ROC curve", "Precision-recall curve"]
    lines = [a for tag, a in seen.tags if tag == "polyline"]
    assert len(lines) == 2
    assert all(len(str(a["points"]).split()) == 3 for a in lines)
    assert len([a for tag, a in seen.tags if tag == "circle"]) == 1
    for expected in ("auc", "0.9512", "accuracy", "threshold 0.5", "actual malignant", "43"):
        assert expected in seen.text, expected
    assert "Confusion matrix" in seen.text


def test_text_is_escaped() -> None:
    report = load()
    document = report.render(report.Report(title="<script>x</script>", metrics={"a<b": 1.0}))
    assert "<script>" not in document
    assert "&lt;script&gt;" in document
