"""Reading config.yaml: where it is, its YAML syntax and duplicate keys as ConfigErrors, each
key's line, and the data directory alone for the commands that only need the daemon's socket.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from gateway.config_errors import ConfigError, ConfigProblem

DEFAULT_CONFIG_PATHS: tuple[Path, ...] = (Path("config.yaml"), Path("/etc/sms-gateway/config.yaml"))
DEFAULT_DATA_DIR = Path("data")
# Serial speeds a modem entry may give (here, not with the models: `probe --help` lists them).
BAUD_RATES: tuple[int, ...] = (9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600)


def find_config_path(path: str | Path | None = None) -> Path:
    """The given path, else ./config.yaml, else /etc/sms-gateway/config.yaml."""
    if path is not None:
        return Path(path)
    for candidate in DEFAULT_CONFIG_PATHS:
        if candidate.is_file():
            return candidate
    looked = " and ".join(str(candidate) for candidate in DEFAULT_CONFIG_PATHS)
    raise ConfigError([ConfigProblem("", f"no config file found; looked for {looked}")])


def resolve_config_path(value: Path, base_dir: Path | None) -> Path:
    """A path from the file: `~` expanded, a relative one taken from the file's directory (the
    working directory when there is no file)."""
    expanded = value.expanduser()
    if expanded.is_absolute():
        return expanded
    return (base_dir if base_dir is not None else Path.cwd()) / expanded


def read_data_dir(path: str | Path | None = None) -> Path | None:
    """The configured data_dir, as the full load would give it, read without validating the rest
    of the file (which costs pydantic and every section's model): `status` and `send` need only
    the daemon's control socket in it, and validate the whole file when no daemon answers there.
    None when the file cannot be read this way (missing, not YAML, data_dir not a string): the
    full load then says what is wrong."""
    try:
        source = find_config_path(path).absolute()
        data = yaml.load(source.read_text(encoding="utf-8"), Loader=_FAST_LOADER)
    except (ConfigError, OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        return None
    value = data.get("data_dir")
    if value is None:
        value = str(DEFAULT_DATA_DIR)
    if not isinstance(value, str):
        return None
    return resolve_config_path(Path(value), source.parent)


_FAST_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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
