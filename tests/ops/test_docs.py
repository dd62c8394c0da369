"""docs/ADMIN.md's configuration reference documents every key the loader accepts, and no other."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from gateway.config import Config

ADMIN = Path(__file__).resolve().parents[2] / "docs" / "ADMIN.md"


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in getattr(annotation, "__args__", ()) or ():
        found.extend(_models_in(arg))
    return found


def config_keys(model: type[BaseModel] = Config, prefix: str = "") -> Iterator[str]:
    for name, field in model.model_fields.items():
        yield prefix + name
        for section in _models_in(field.annotation):
            is_list = "tuple" in str(field.annotation)
            yield from config_keys(section, f"{prefix}{name}{'[].' if is_list else '.'}")


def documented_keys() -> list[str]:
    text = ADMIN.read_text(encoding="utf-8")
    reference = text.split("## Configuration reference", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([a-z_.\[\]]+)` \|", reference, re.MULTILINE)


def leaf_keys() -> set[str]:
    keys = list(config_keys())
    return {key for key in keys if not any(other.startswith(key + ".") for other in keys) and
            not any(other.startswith(key + "[].") for other in keys)} | {"modems", "lines"}


def test_every_config_key_is_documented() -> None:
    missing = leaf_keys() - set(documented_keys())
    assert not missing, f"not in docs/ADMIN.md's configuration reference: {sorted(missing)}"


def test_every_documented_key_exists() -> None:
    documented = documented_keys()
    assert len(documented) == len(set(documented)), "a key is documented twice"
    stale = set(documented) - set(config_keys())
    assert not stale, f"documented but not accepted by the loader: {sorted(stale)}"
