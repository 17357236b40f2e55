"""Regenerate the Inputs/Outputs tables of platform/modules/*/README.md from variables/outputs.

Usage: python platform/scripts/module_docs.py [--check]. The tables sit between the
`<!-- BEGIN_TF_DOCS -->` and `<!-- END_TF_DOCS -->` markers; the prose above them is hand-written.
`--check` fails when a README is stale (tests/iac runs the same comparison).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

MODULES = Path(__file__).resolve().parents[1] / "modules"
BEGIN, END = "<!-- BEGIN_TF_DOCS -->", "<!-- END_TF_DOCS -->"


def _blocks(text: str, kind: str) -> list[tuple[str, str]]:
    """(name, body) of each top-level `kind "name" {` block."""
    found = []
    for match in re.finditer(
        rf'^{kind} "([^"]+)" \{{\n(.*?)^\}}', text, flags=re.MULTILINE | re.DOTALL
    ):
        found.append((match.group(1), match.group(2)))
    return found


def _attr(body: str, name: str) -> str:
    match = re.search(rf"^  {name}\s*=\s*(.+)$", body, flags=re.MULTILINE)
    if not match:
        return ""
    value = match.group(1).strip()
    if value.startswith('"') and value.endswith('"'):
        value = value[1:-1].replace('\\"', '"')
    if value in ("{", "["):
        return "(see variables.tf)"
    return value


def _type(body: str) -> str:
    match = re.search(
        r"^  type\s*=\s*(.+?)(?=^\s*description|^  default|^$)",
        body,
        flags=re.MULTILINE | re.DOTALL,
    )
    text = " ".join(match.group(1).split()) if match else ""
    return text if len(text) <= 60 else text.split("(", 1)[0] + "(...)"


def tables(module: Path) -> str:
    """The generated Markdown for one module."""
    variables = _blocks((module / "variables.tf").read_text(encoding="utf-8"), "variable")
    outputs = _blocks((module / "outputs.tf").read_text(encoding="utf-8"), "output")
    lines = [
        BEGIN,
        "## Inputs",
        "",
        "| name | type | default | description |",
        "| --- | --- | --- | --- |",
    ]
    for name, body in variables:
        default = _attr(body, "default")
        shown = (
            "required"
            if not re.search(r"^  default\s*=", body, flags=re.MULTILINE)
            else f"`{default}`"
        )
        lines.append(f"| `{name}` | `{_type(body)}` | {shown} | {_attr(body, 'description')} |")
    lines += ["", "## Outputs", "", "| name | description |", "| --- | --- |"]
    for name, body in outputs:
        lines.append(f"| `{name}` | {_attr(body, 'description')} |")
    lines.append(END)
    return "\n".join(lines)


def render(module: Path) -> str:
    """README text with fresh tables, keeping the hand-written part."""
    readme = module / "README.md"
    text = readme.read_text(encoding="utf-8") if readme.exists() else f"# {module.name}\n\n"
    head = text.split(BEGIN, 1)[0].rstrip() + "\n\n"
    tail = text.split(END, 1)[1] if END in text else "\n"
    return head + tables(module) + tail


def main(argv: list[str]) -> int:
    stale = []
    for module in sorted(p for p in MODULES.iterdir() if p.is_dir()):
        fresh = render(module)
        readme = module / "README.md"
        if "--check" in argv:
            if not readme.exists() or readme.read_text(encoding="utf-8") != fresh:
                stale.append(readme)
        else:
            readme.write_text(fresh, encoding="utf-8")
    for path in stale:
        print(f"stale: {path} (run python platform/scripts/module_docs.py)")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
