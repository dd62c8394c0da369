"""Every import in gateway/ keeps to the layer order in docs/ARCHITECTURE.md.

The table under "Who may import whom" is the rule: this test reads it, so the doc and the check
cannot drift apart. Each part of the tree (a package or a top-level module under gateway/) needs
a row; imports inside functions and under TYPE_CHECKING count like any other.
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
GATEWAY = REPO / "gateway"
ARCHITECTURE = REPO / "docs" / "ARCHITECTURE.md"
# What "no asyncio, no I/O, no clock" rules out of the standard library for a pure part.
IMPURE_STDLIB = frozenset({
    "asyncio", "io", "os", "pathlib", "random", "secrets", "select", "selectors", "shutil",
    "socket", "subprocess", "threading", "time",
})


@dataclass
class Rule:
    """One row of the table: the parts it names and what they may import."""

    parts: tuple[str, ...]
    anything: bool = False
    ours: tuple[str, ...] = ()  # e.g. "sms", "api.auth": that module and what is under it
    pure: bool = False  # "the standard library and ... only"
    third_party: tuple[str, ...] = ()  # allowed besides the standard library when pure
    text: str = ""


@dataclass
class Import:
    module: str  # the importing module, e.g. gateway.store.cases
    target: str  # what it imports, e.g. gateway.sms.pdu or aiohttp.web
    line: int


def parts_of_tree() -> set[str]:
    """The parts of gateway/: each package and each top-level module (not the package itself)."""
    found = {p.stem for p in GATEWAY.glob("*.py") if p.stem != "__init__"}
    found |= {p.name for p in GATEWAY.iterdir() if p.is_dir() and any(p.rglob("*.py"))}
    return found


def read_rules(doc: str, parts: set[str]) -> list[Rule]:
    section = doc.split("## Who may import whom", 1)[1].split("\n## ", 1)[0]
    rules = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cells) != 2 or set(cells[0]) <= set("-: "):
            continue
        who, may = cells
        names = tuple(n.removeprefix("gateway.") for n in re.findall(r"`([^`]+)`", who))
        if not names:
            continue  # the header
        tokens = re.findall(r"`([^`]+)`", may)
        rules.append(Rule(
            parts=names,
            anything=may.startswith("everything"),
            ours=tuple(t for t in tokens if t.split(".")[0] in parts),
            pure="the standard library" in may,
            third_party=tuple(t for t in tokens if t.split(".")[0] not in parts),
            text=may,
        ))
    return rules


def _module_name(path: Path) -> str:
    dotted = ".".join(path.relative_to(REPO).with_suffix("").parts)
    return dotted.removesuffix(".__init__")


def imports_of(module: str, source: str, is_package: bool = False) -> list[Import]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [Import(module, alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module if is_package else module.rpartition(".")[0]
                for _ in range(node.level - 1):
                    package = package.rpartition(".")[0]
                base = f"{package}.{base}".rstrip(".")
            for alias in node.names:
                # `from gateway.api import auth` imports the module gateway.api.auth.
                candidate = f"{base}.{alias.name}"
                exists = base.startswith("gateway") and _exists(candidate)
                found.append(Import(module, candidate if exists else base, node.lineno))
    return found


def _exists(dotted: str) -> bool:
    path = REPO.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file() or path.is_dir()


@dataclass
class Checker:
    rules: list[Rule]
    by_part: dict[str, Rule] = field(init=False)

    def __post_init__(self) -> None:
        self.by_part = {part: rule for rule in self.rules for part in rule.parts}

    def problems(self, found: Import) -> str | None:
        source_part = found.module.split(".")[1]
        rule = self.by_part[source_part]
        top = found.target.split(".")[0]
        if top == "gateway":
            if found.target == "gateway":
                return None  # the package itself: its version, nothing else
            target = found.target.removeprefix("gateway.")
            if rule.anything or target.split(".")[0] in rule.parts:
                return None
            # A row names a whole part by its first name (`config` for its sections too) or
            # one module of it (`api.auth`).
            group = self.by_part[target.split(".")[0]].parts
            if any(ok in group or target == ok or target.startswith(ok + ".") for ok in rule.ours):
                return None
            return f"imports gateway.{target}; {source_part} may import: {rule.text}"
        if not rule.pure or top in rule.third_party:
            return None
        if top in sys.stdlib_module_names and top not in IMPURE_STDLIB:
            return None
        return f"imports {found.target}; {source_part} may import: {rule.text}"


def tree_imports() -> list[Import]:
    found = []
    for path in sorted(GATEWAY.rglob("*.py")):
        found += imports_of(_module_name(path), path.read_text(encoding="utf-8"),
                            is_package=path.name == "__init__.py")
    return [i for i in found if i.module != "gateway"]  # the package's own __init__


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker(read_rules(ARCHITECTURE.read_text(encoding="utf-8"), parts_of_tree()))


def test_every_part_of_the_tree_has_a_row(checker: Checker) -> None:
    assert sorted(parts_of_tree() - set(checker.by_part)) == []
    assert sorted(set(checker.by_part) - parts_of_tree()) == []  # no row for a part that left


def test_every_import_keeps_to_the_table(checker: Checker) -> None:
    found = tree_imports()
    assert len(found) > 100
    problems = [
        f"{i.module}:{i.line} {problem}" for i in found if (problem := checker.problems(i))
    ]
    assert problems == []


def test_the_check_catches_an_import_against_the_order(checker: Checker) -> None:
    def check(module: str, source: str) -> list[str]:
        return [p for i in imports_of(module, source) if (p := checker.problems(i))]

    assert check("gateway.store.cases", "from gateway.api.app import create_app") != []
    assert check("gateway.store.cases", "def f():\n    import gateway.daemon\n") != []
    assert check("gateway.sms.pdu", "import asyncio") != []
    assert check("gateway.sms.pdu", "import aiohttp") != []
    assert check("gateway.console.x", "from gateway.api import app") != []
    assert check("gateway.modem.driver", "from ..store import Store") != []
    # What the table allows passes.
    assert check("gateway.console.x", "from gateway.api import auth") == []
    assert check("gateway.sms.pdu", "import binascii\nfrom gsm0338 import charset") == []
    assert check("gateway.store.cases", "from gateway.sms.pdu import decode_pdu") == []
    assert check("gateway.daemon", "from gateway.api.app import create_app") == []
