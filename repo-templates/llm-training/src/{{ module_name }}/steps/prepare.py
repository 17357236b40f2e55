"""Data preparation step: check JSON Lines instruction data, deduplicate, split and format it.

Input rows are `{"instruction": ..., "input": ... (optional), "output": ...}`, one JSON object a
line. Every problem is reported with its file and line number, so a bad row can be fixed where
it is. The prompt template (prompt_template.json, kept in this repository) turns each row into a
`{"prompt", "response"}` pair; training and evaluation read only those two fields.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import random
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REQUIRED = ("instruction", "output")
OPTIONAL = ("input",)
SPLITS = ("train", "validation", "test")
TEMPLATE_KEYS = ("with_input", "without_input")
LOG = logging.getLogger("prepare")


class DataError(ValueError):
    """The input data cannot be used; the message names the file, the line and the fix."""


@dataclass(frozen=True)
class Row:
    """One instruction example and where it came from."""

    instruction: str
    output: str
    input: str = ""
    source: str = ""
    line: int = 0


def parse_line(text: str, source: str, line: int) -> Row | None:
    """Return the row on one line of a JSON Lines file (None for a blank line)."""
    if not text.strip():
        return None
    where = f"{source}:{line}"
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(
            f"{where}: invalid JSON ({exc.msg} at column {exc.colno}): write one JSON object a line"
        ) from exc
    if not isinstance(value, dict):
        raise DataError(f"{where}: a {type(value).__name__}, not an object: write one JSON object")
    missing = [k for k in REQUIRED if k not in value]
    if missing:
        raise DataError(
            f"{where}: missing field(s) {missing}: every row needs "
            f'"instruction" and "output" (and may have "input")'
        )
    for key in (*REQUIRED, *OPTIONAL):
        if key in value and not isinstance(value[key], str):
            raise DataError(
                f"{where}: field {key!r} is a {type(value[key]).__name__}: use a string"
            )
    for key in REQUIRED:
        if not value[key].strip():
            raise DataError(f"{where}: field {key!r} is empty: give it text or drop the row")
    return Row(
        instruction=value["instruction"].strip(),
        output=value["output"].strip(),
        input=str(value.get("input", "")).strip(),
        source=source,
        line=line,
    )


def read_rows(lines: Iterable[str], source: str) -> list[Row]:
    """Return the rows of one JSON Lines document, checked; raises DataError naming the line."""
    rows = []
    for number, text in enumerate(lines, start=1):
        row = parse_line(text, source, number)
        if row is not None:
            rows.append(row)
    return rows


def _key(row: Row) -> tuple[str, str]:
    def norm(text: str) -> str:
        return " ".join(text.lower().split())

    return norm(row.instruction), norm(row.input)


def deduplicate(rows: list[Row]) -> tuple[list[Row], int]:
    """Drop rows whose instruction and input repeat an earlier row's (case and spacing aside).

    Two answers to the same prompt would teach the model both and let one of them leak into the
    held-out split; the first one wins. Returns the kept rows and how many were dropped.
    """
    seen: set[tuple[str, str]] = set()
    kept = []
    for row in rows:
        key = _key(row)
        if key not in seen:
            seen.add(key)
            kept.append(row)
    return kept, len(rows) - len(kept)


def split(
    rows: list[Row], validation_size: float = 0.1, test_size: float = 0.1, seed: int = 42
) -> dict[str, list[Row]]:
    """Split rows into train, validation and test; reproducible for a seed and the same rows."""
    if not 0 < validation_size < 1 or not 0 < test_size < 1 or validation_size + test_size >= 1:
        raise DataError(
            f"validation_size={validation_size} and test_size={test_size}: "
            "use fractions above 0 whose sum is below 1, e.g. 0.1 and 0.1"
        )
    n_validation = max(1, round(len(rows) * validation_size))
    n_test = max(1, round(len(rows) * test_size))
    if len(rows) < n_validation + n_test + 1:
        raise DataError(
            f"{len(rows)} distinct rows are too few to split into train, validation and test: "
            f"give at least {n_validation + n_test + 1}"
        )
    # Order by a content hash first, so the split does not depend on the order of the files.
    ordered = sorted(rows, key=lambda r: hashlib.sha256(repr(_key(r)).encode()).hexdigest())
    random.Random(seed).shuffle(ordered)  # noqa: S311 - reproducible, not secret
    return {
        "test": ordered[:n_test],
        "validation": ordered[n_test : n_test + n_validation],
        "train": ordered[n_test + n_validation :],
    }


def load_template(path: Path) -> dict[str, str]:
    """Read the prompt template and check that it has both forms and the right placeholders."""
    try:
        template = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(f"prompt template {path}: {exc}: keep it a JSON object") from exc
    missing = [k for k in TEMPLATE_KEYS if not isinstance(template.get(k), str)]
    if missing:
        raise DataError(f"prompt template {path} lacks {missing}: give both forms as strings")
    needed = {"with_input": ("{instruction}", "{input}"), "without_input": ("{instruction}",)}
    for key, placeholders in needed.items():
        for placeholder in placeholders:
            if placeholder not in template[key]:
                raise DataError(
                    f"prompt template {path}: {key!r} lacks {placeholder}: put it where the "
                    "row's text goes"
                )
    return {k: template[k] for k in TEMPLATE_KEYS}


def format_row(row: Row, template: dict[str, str]) -> dict[str, Any]:
    """Return the prompt the model sees and the response it should learn for one row."""
    form = template["with_input"] if row.input else template["without_input"]
    prompt = form.replace("{instruction}", row.instruction).replace("{input}", row.input)
    return {"prompt": prompt, "response": row.output}


def read_input(input_dir: Path) -> list[Row]:
    """Read every *.jsonl file under `input_dir`, in name order."""
    files = sorted(input_dir.rglob("*.jsonl"))
    if not files:
        raise DataError(
            f"no .jsonl file under {input_dir}: point the InputDataUrl parameter at JSON Lines data"
        )
    rows = []
    for path in files:
        with path.open(encoding="utf-8") as handle:
            rows += read_rows(handle, str(path.relative_to(input_dir)))
    return rows


def prepare(
    rows: list[Row],
    template: dict[str, str],
    validation_size: float = 0.1,
    test_size: float = 0.1,
    seed: int = 42,
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, Any]]:
    """Deduplicate, split and format `rows`; return the splits and a summary."""
    kept, dropped = deduplicate(rows)
    parts = split(kept, validation_size, test_size, seed)
    formatted = {name: [format_row(r, template) for r in parts[name]] for name in SPLITS}
    summary = {"rows": len(rows), "duplicates": dropped, **{n: len(parts[n]) for n in SPLITS}}
    return formatted, summary


def main(argv: list[str] | None = None) -> None:
    """Read the raw JSON Lines, prepare them and write one JSON Lines file per split."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--input-dir", type=Path, required=True)
    parser.add_argument("--template", type=Path, required=True)
    parser.add_argument("--output-dir", type=Path, required=True)
    parser.add_argument("--validation-size", type=float, default=0.1)
    parser.add_argument("--test-size", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)

    template_path = args.template
    if template_path.is_dir():
        template_path = template_path / "prompt_template.json"
    formatted, summary = prepare(
        read_input(args.input_dir),
        load_template(template_path),
        args.validation_size,
        args.test_size,
        args.seed,
    )
    for name, records in formatted.items():
        target = args.output_dir / name
        target.mkdir(parents=True, exist_ok=True)
        with (target / f"{name}.jsonl").open("w", encoding="utf-8") as out:
            for record in records:
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
    LOG.info("prepared %s", json.dumps(summary))


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    main()
