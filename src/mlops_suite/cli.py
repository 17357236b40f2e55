"""The `mlops-suite` command: snapshot the suite, render a kind, list the kinds."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from mlops_suite import rendering


def _render(args: argparse.Namespace) -> int:
    data = yaml.safe_load(Path(args.answers).read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        print(f"error: {args.answers} must be a YAML mapping of answers", file=sys.stderr)
        return 2
    try:
        rendering.render(Path(args.dst), data, template=args.template, vcs_ref=args.vcs_ref)
    except rendering.RenderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(args.dst)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `mlops-suite` command."""
    parser = argparse.ArgumentParser(prog="mlops-suite", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    snap = sub.add_parser(
        "snapshot", help="copy the suite's working tree into a committed git repo"
    )
    snap.add_argument("dst", type=Path)
    snap.add_argument("--tag", default=None, help="also tag the snapshot commit")

    ren = sub.add_parser("render", help="render one repository kind from an answers file")
    ren.add_argument("dst", type=Path)
    ren.add_argument("--answers", required=True, help="YAML file of Copier answers")
    ren.add_argument("--template", default=str(rendering.SUITE_ROOT), help="suite path or URL")
    ren.add_argument("--vcs-ref", default="HEAD", help="git ref of the suite to render")

    sub.add_parser("kinds", help="print the repository kinds the questionnaire offers")

    args = parser.parse_args(argv)
    if args.command == "snapshot":
        print(rendering.snapshot(args.dst, tag=args.tag))
        return 0
    if args.command == "render":
        return _render(args)
    print("\n".join(rendering.kinds()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
