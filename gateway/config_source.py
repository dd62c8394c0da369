"""Reading config.yaml: YAML syntax and duplicate keys as ConfigErrors, and each key's line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from gateway.config_errors import ConfigError, ConfigProblem


def read_yaml(source: Path) -> tuple[Any, dict[str, int]]:
    """Parse the file; return its data and the 1-based line of every key path in it."""
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([ConfigProblem("", "file not found")], source) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([ConfigProblem("", f"cannot read the file: {exc}")], source) from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([ConfigProblem("", f"not valid YAML: {reason}", line)], source) from None
    positions: dict[str, int] = {}
    duplicates: list[ConfigProblem] = []
    if root is not None:
        _walk(root, "", positions, duplicates)
    if duplicates:
        raise ConfigError(duplicates, source)
    return data, positions


def _walk(
    node: yaml.Node, path: str, positions: dict[str, int], duplicates: list[ConfigProblem]
) -> None:
    positions.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            child = f"{path}.{key}" if path else key
            if key in seen:
                duplicates.append(
                    ConfigProblem(child, "key given twice", key_node.start_mark.line + 1)
                )
            seen.add(key)
            positions.setdefault(child, key_node.start_mark.line + 1)
            _walk(value_node, child, positions, duplicates)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, f"{path}[{index}]", positions, duplicates)
