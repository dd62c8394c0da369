"""The one configuration error type: every problem found, each with its key path and YAML line."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError

# pydantic is imported where a validation error is read, not here: the commands that only find
# the daemon's socket (`status`, `send`) raise ConfigErrors without validating the whole file.


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One problem: `path` is the key path such as `modems[1].baud` ("" for the whole file)."""

    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line is not None else ""
        return f"{where}{self.path}: {self.message}" if self.path else f"{where}{self.message}"


class ConfigError(Exception):
    """The configuration cannot be used. Deliberately not a ValueError: pydantic lets it through."""

    def __init__(self, problems: Iterable[ConfigProblem], source: Path | None = None) -> None:
        self.problems: tuple[ConfigProblem, ...] = tuple(problems)
        self.source = source
        super().__init__(self._text())

    def _text(self) -> str:
        name = str(self.source) if self.source is not None else "configuration"
        count = len(self.problems)
        lines = [f"{name}: {count} problem{'s' if count != 1 else ''}"]
        lines.extend(f"  {problem}" for problem in self.problems)
        return "\n".join(lines)

    def with_lines(self, positions: Mapping[str, int]) -> ConfigError:
        """A copy whose problems carry the YAML line of their key (or of its nearest parent)."""
        located = []
        for problem in self.problems:
            if problem.line is not None:
                located.append(problem)
                continue
            path = problem.path
            while path and path not in positions:
                path = _parent(path)
            located.append(replace(problem, line=positions.get(path)))
        located.sort(key=lambda problem: problem.line or 0)
        return ConfigError(located, self.source)


def _parent(path: str) -> str:
    cut = max(path.rfind("."), path.rfind("["))
    return path[:cut] if cut > 0 else ""


def format_path(loc: Sequence[int | str]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part.startswith("~"):
            continue  # a union branch tag, not a key
        else:
            text += f".{part}" if text else part
    return text


def _model_at(loc: Sequence[int | str]) -> type[BaseModel] | None:
    """The model class that holds the key at `loc` (for "did you mean" suggestions)."""
    from pydantic import BaseModel

    from gateway.config import Config

    model: Any = Config
    for part in loc[:-1]:
        if isinstance(part, int) or part.startswith("~"):
            continue
        is_model = isinstance(model, type) and issubclass(model, BaseModel)
        field = model.model_fields.get(part) if is_model else None
        if field is None:
            return None
        model = _unwrap_model(field.annotation)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _unwrap_model(annotation: Any) -> Any:
    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _unwrap_model(arg)
        if found is not None:
            return found
    return None


def _message(error: Any) -> str:
    kind = error["type"]
    loc = error["loc"]
    if kind == "extra_forbidden":
        model = _model_at(loc)
        text = "unknown key"
        if model is not None and isinstance(loc[-1], str):
            close = difflib.get_close_matches(loc[-1], list(model.model_fields), n=1)
            if close:
                text += f" (did you mean {close[0]!r}?)"
        return text
    if kind == "missing":
        return "required"
    if kind == "value_error":
        return str(error["ctx"]["error"])
    if kind in ("tuple_type", "list_type"):
        return "must be a list"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return "must be a mapping of keys to values"
    message = str(error["msg"])
    if message.startswith("Input should be "):
        message = "must be " + message.removeprefix("Input should be ")
    given = error.get("input")
    if isinstance(given, str | int | float | bool):
        message += f" (got {given!r})"
    return message


def problems_from_validation_error(exc: ValidationError) -> list[ConfigProblem]:
    problems = []
    for error in exc.errors(include_url=False):
        problems.append(ConfigProblem(format_path(error["loc"]), _message(error)))
    return problems
