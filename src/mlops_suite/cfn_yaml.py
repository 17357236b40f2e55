"""Parse CloudFormation YAML with its short-form intrinsics (`!Ref`, `!Sub`, ...) in long form."""

from __future__ import annotations

from typing import Any

import yaml


class CfnLoader(yaml.SafeLoader):
    """A SafeLoader that turns `!Name value` into `{"Fn::Name": value}` (`!Ref` into `Ref`)."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


CfnLoader.add_multi_constructor("!", _intrinsic)


def load(text: str) -> Any:
    """Parse one CloudFormation template's text."""
    return yaml.load(text, Loader=CfnLoader)  # noqa: S506 - a SafeLoader subclass
