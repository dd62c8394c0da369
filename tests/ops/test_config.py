"""config.yaml loading: the demo loads, and every kind of mistake is reported with its key path."""

from __future__ import annotations

import ast
import inspect
import textwrap
from pathlib import Path

import pytest
from pydantic import BaseModel

from gateway.config import (
    Config,
    ConfigError,
    ModemConfig,
    find_config_path,
    load_config,
    parse_config,
    split_host_port,
)
from gateway.config_reload import plan_reload
from gateway.config_source import read_data_dir
from tests.ops.test_docs import _models_in

REPO = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems(path: Path) -> dict[str, str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return {problem.path: problem.message for problem in caught.value.problems}


def test_repository_demo_config_loads_with_one_simulated_modem() -> None:
    config = load_config(REPO / "config.yaml")
    assert config.data_dir == REPO / "data"
    assert config.http.host == "127.0.0.1"
    assert config.http.port == 8080
    assert config.simulator.port == 8081
    assert config.default_region == "US"
    (modem,) = config.modem_list
    assert (modem.name, modem.number, modem.simulator, modem.device) == (
        "demo",
        "+15550100",
        True,
        None,
    )
    assert config.address_search.provider == "csv"
    assert config.address_search.path == REPO / "examples" / "addresses.csv"
    assert config.database_url == f"sqlite+aiosqlite:///{REPO / 'data' / 'gateway.db'}"
    assert config.source_path == REPO / "config.yaml"


def test_sample_config_for_etc_loads(tmp_path: Path) -> None:
    config = load_config(REPO / "examples" / "config.sample.yaml")
    assert config.data_dir == Path("/var/lib/sms-gateway")
    assert config.sqlite_path == Path("/var/lib/sms-gateway/gateway.db")
    assert config.modem_list[0].device == Path("/dev/gsm/huawei-1-1.2-at")


def test_empty_file_gives_every_default(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, ""))
    assert config.data_dir == tmp_path / "data"
    assert config.sending.max_parts == 10
    assert config.sending.status_reports is True
    assert config.sending.failover == "wait"
    assert config.inbound.reassembly_timeout_s == 60.0
    assert config.routing.mode == "ring_all"
    assert config.logging.log_message_text is False
    assert config.logging.at_trace is False
    assert config.modem_list == ()


def test_relative_paths_are_relative_to_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "dir.csv").write_text("phone,address\n", encoding="utf-8")
    path = write(
        tmp_path,
        """
        data_dir: state
        database: sqlite:///db/gw.db
        address_search: {provider: csv, path: dir.csv}
        modems:
          - {name: a, number: "+15550100", device: devices/modem0}
        """,
    )
    config = load_config(path)
    assert config.data_dir == tmp_path / "state"
    assert config.database_url == f"sqlite+aiosqlite:///{tmp_path}/db/gw.db"
    assert config.sqlite_path == tmp_path / "db" / "gw.db"
    assert config.modem_list[0].device == tmp_path / "devices" / "modem0"


def test_postgresql_url_gets_the_async_driver(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "database: postgresql://gw:pw@db.local/sms\n"))
    assert config.database_url == "postgresql+asyncpg://gw:pw@db.local/sms"
    assert config.sqlite_path is None


def test_unknown_key_is_rejected_with_a_suggestion(tmp_path: Path) -> None:
    found = problems(write(tmp_path, "http:\n  lisen: 127.0.0.1:1\nfoo: 1\n"))
    assert found == {
        "http.lisen": "unknown key (did you mean 'listen'?)",
        "foo": "unknown key",
    }


def test_bad_modem_values_name_the_modem_and_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        modems:
          - {name: ok, number: "+15550100", simulator: true}
          - name: Bad Name
            number: "12"
            baud: 1234
            pin: 1234
            device: /dev/ttyUSB0
            simulator: true
          - {name: c, number: "+15550102"}
        """,
    )
    found = problems(path)
    assert found["modems[1].baud"].startswith("must be one of 9600, 19200, 38400, 57600, 115200")
    assert "lower-case" in found["modems[1].name"]
    assert found["modems[1].number"] == "not a possible phone number: '12'"
    assert "quoted" in found["modems[1].pin"]
    exactly_one = "give either device: PATH or simulator: true (exactly one)"
    assert found["modems[1].simulator"] == exactly_one
    assert found["modems[2].simulator"] == found["modems[1].simulator"]
    assert "modems[0].name" not in found


def test_problems_carry_the_yaml_line(tmp_path: Path) -> None:
    path = write(tmp_path, "logging:\n  level: info\nsending:\n  failover: maybe\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    (problem,) = caught.value.problems
    assert problem.line == 4
    assert str(problem) == "line 4: sending.failover: must be 'wait' or 'other_line' (got 'maybe')"
    assert str(path) in str(caught.value)


def test_duplicate_names_and_numbers_are_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        default_region: US
        modems:
          - {name: a, number: "+15550100", simulator: true}
          - {name: a, number: "555-0100", device: /dev/ttyUSB0}
        """,
    )
    found = problems(path)
    assert found == {
        "modems[1].name": "a is already used by modems[0]",
        "modems[1].number": "+15550100 is already used by modems[0]",
    }


def test_numbers_are_normalised_with_the_default_region(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        default_region: gb
        modems:
          - {name: uk, number: "07700 900123", device: /dev/ttyUSB0, pin: "0482"}
        """,
    )
    config = load_config(path)
    assert config.default_region == "GB"
    assert config.modem_list[0].number == "+447700900123"
    assert config.modem_list[0].pin == "0482"
    assert "0482" not in repr(config)


BAD_VALUES: list[tuple[str, str, str]] = [
    ("http: {listen: localhost}", "http.listen", "must be host:port"),
    ("http: {listen: '127.0.0.1:99999'}", "http.listen", "port must be a number"),
    ("http: {tls_cert: a.pem}", "http.tls_key", "tls_cert and tls_key must be given together"),
    ("http: {trusted_origins: ['https://a/b']}", "http.trusted_origins", "no path"),
    ("simulator: {control: ':80'}", "simulator.control", "must be host:port"),
    ("default_region: XX", "default_region", "not a known region code"),
    ("database: 'mysql://x/y'", "database", "sqlite or postgresql"),
    ("database: 'not a url'", "database", "not a SQLAlchemy URL"),
    ("sending: {max_parts: 0}", "sending.max_parts", "greater than or equal to 1"),
    ("sending: {retry_backoff_s: abc}", "sending.retry_backoff_s", "valid number"),
    ("sending: {validity_minutes: 1}", "sending.validity_minutes", "greater than or equal"),
    ("inbound: {reassembly_timeout_s: 0}", "inbound.reassembly_timeout_s", "greater than 0"),
    ("routing: {mode: random}", "routing.mode", "'ring_all' or 'round_robin'"),
    ("address_search: {provider: csv}", "address_search.path", "required by provider csv"),
    ("address_search: {provider: sqlite, path: x.db}", "address_search.path", "no such file"),
    ("address_search: {provider: http}", "address_search.url_template", "containing {phone}"),
    ("logging: {format: xml}", "logging.format", "'auto', 'json' or 'console'"),
    ("webhooks: [{url: 'ftp://x', secret: 0123456789abcdef}]", "webhooks[0].url", "http(s)"),
    ("webhooks: [{url: 'http://x'}]", "webhooks[0].secret", "required"),
    ("modems: everything", "modems", "'auto'"),
    ("modems: {name: a}", "modems", "must be a list"),
    ("opt_out_words: ['STOP', ' ']", "opt_out_words", "must not be empty"),
    ("http: 5", "http", "must be a mapping"),
    ("lines: [{name: a, number: '+15550100'}]", "lines", "only used with modems: auto"),
    ("modems: [{name: a, number: +15550100, simulator: true}]", "modems[0].number",
     'must be quoted, e.g. "+15550100"'),
    ("modems: [{name: a, number: '+15550100', simulator: true, smsc: '123'}]",
     "modems[0].smsc", "international number"),
    ("modems: [{name: a, number: '+15550100', simulator: true, iccid: 12ab}]",
     "modems[0].iccid", "6 to 22 digits"),
]


def test_each_bad_value_is_reported_at_its_key(tmp_path: Path) -> None:
    wrong = []
    for yaml_text, key, expected in BAD_VALUES:
        found = problems(write(tmp_path, yaml_text + "\n"))
        if expected not in found.get(key, ""):
            wrong.append(f"{yaml_text!r}: expected {key}: ...{expected}..., got {found}")
    assert not wrong, "\n".join(wrong)


def test_modems_auto_matches_lines_by_sim(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        modems: auto
        lines:
          - {name: support, number: "+15550100", iccid: "8944500102198304826"}
          - {name: sales, number: "+15550101", imsi: 310150123456789}
          - {name: other, number: "+15550102", iccid: "8944500102198304826"}
        """,
    )
    found = problems(path)
    assert found == {"lines[2].iccid": "8944500102198304826 is already used by lines[0]"}
    del_third = path.read_text().rsplit("\n  - {name: other", 1)[0] + "\n"
    path.write_text(del_third)
    config = load_config(path)
    assert config.modems_auto
    assert config.modem_list == ()
    assert [line.name for line in config.line_list] == ["support", "sales"]
    assert config.line_list[1].imsi == "310150123456789"


def test_unreadable_files_are_config_errors(tmp_path: Path) -> None:
    for text, message in (
        ("modems: [\n", "not valid YAML"),
        ("- a\n- b\n", "the file must be a mapping"),
        ("http: {listen: 127.0.0.1:1}\nhttp: {listen: 127.0.0.1:2}\n", "key given twice"),
    ):
        with pytest.raises(ConfigError) as caught:
            load_config(write(tmp_path, text))
        assert message in str(caught.value)


def test_missing_file_and_default_lookup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.yaml")
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "default_region: DE\n")
    assert find_config_path(None) == Path("config.yaml")
    assert load_config().default_region == "DE"


def test_config_error_is_not_a_value_error() -> None:
    # pydantic wraps ValueErrors raised in validators; cross-field problems must pass through.
    assert not issubclass(ConfigError, ValueError)
    with pytest.raises(ConfigError, match="already used"):
        Config.model_validate(
            {
                "modems": [
                    {"name": "a", "number": "+15550100", "simulator": True},
                    {"name": "a", "number": "+15550101", "simulator": True},
                ]
            }
        )


def test_models_are_frozen_and_parse_config_takes_data(tmp_path: Path) -> None:
    config = parse_config(
        {"modems": [{"name": "x", "number": "+15550100", "device": "tty0"}]}, base_dir=tmp_path
    )
    assert isinstance(config.modem_list[0], ModemConfig)
    assert config.modem_list[0].device == tmp_path / "tty0"
    with pytest.raises(ValueError, match="frozen"):
        config.modem_list[0].baud = 9600


def test_split_host_port() -> None:
    assert split_host_port("127.0.0.1:8080") == ("127.0.0.1", 8080)
    assert split_host_port("[::1]:0") == ("::1", 0)
    assert split_host_port("h:65535") == ("h", 65535)
    for bad in ("h", ":1", "h:x", "::1:80", "h:70000"):
        with pytest.raises(ValueError, match=r"host:port|port must|brackets"):
            split_host_port(bad)


# Modules that define and load the configuration: a key read only here is not used.
CONFIG_MODULES = {"config.py", "config_sections.py", "config_errors.py", "config_source.py"}


def _section_models(model: type[BaseModel] = Config) -> dict[str, type[BaseModel]]:
    found = {model.__name__: model}
    for field in model.model_fields.values():
        for section in _models_in(field.annotation):
            found.update(_section_models(section))
    return found


def _attributes_read(tree: ast.AST) -> set[str]:
    """`x.name` and `getattr(x, "name")` anywhere in `tree`."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            names.add(node.attr)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id == "getattr" and len(node.args) >= 2
              and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)):
            names.add(node.args[1].value)
    return names


def test_every_configuration_field_is_read_outside_the_config_modules() -> None:
    """A key that is parsed and documented but that nothing reads is a promise the daemon does
    not keep: each field must be read by the code it configures, directly or through a property
    of its own section (as `modems` through `modem_list`)."""
    read_outside: set[str] = set()
    for path in (REPO / "gateway").rglob("*.py"):
        if path.parent.name == "gateway" and path.name in CONFIG_MODULES:
            continue
        read_outside |= _attributes_read(ast.parse(path.read_text(encoding="utf-8")))
    unread: list[str] = []
    for model_name, model in _section_models().items():
        source = ast.parse(textwrap.dedent(inspect.getsource(model)))
        through_properties: set[str] = set()
        for node in ast.walk(source):
            if isinstance(node, ast.FunctionDef) and any(
                isinstance(d, ast.Name) and d.id == "property" for d in node.decorator_list
            ) and node.name in read_outside:
                through_properties |= _attributes_read(node)
        for field_name in model.model_fields:
            if field_name not in read_outside and field_name not in through_properties:
                unread.append(f"{model_name}.{field_name}")
    assert not unread, f"configuration fields nothing reads: {unread}"


def _modems(*entries: dict[str, object]) -> list[dict[str, object]]:
    return [{"simulator": True, **entry} for entry in entries]


def test_reload_plan_touches_only_the_modems_whose_entries_changed(tmp_path: Path) -> None:
    running = parse_config({"modems": _modems(
        {"name": "a", "number": "+15550101"},
        {"name": "b", "number": "+15550102"},
        {"name": "c", "number": "+15550103"},
    )}, base_dir=tmp_path)
    loaded = parse_config({"modems": _modems(
        {"name": "a", "number": "+15550101"},
        {"name": "c", "number": "+15550103", "min_send_interval_s": 1},
        {"name": "d", "number": "+15550104"},
    )}, base_dir=tmp_path)
    plan = plan_reload(running, loaded)
    assert plan.removed == ("b",)
    assert [m.name for m in plan.changed] == ["c"]
    assert plan.changed[0].min_send_interval_s == 1
    assert [m.name for m in plan.added] == ["d"]
    assert plan.needs_restart == ()
    assert plan.discovery_kept
    assert plan.config == loaded


def test_reload_plan_keeps_restart_only_settings_as_they_run(tmp_path: Path) -> None:
    running = parse_config({"http": {"listen": "127.0.0.1:8080"},
                            "sending": {"retry_limit": 3}}, base_dir=tmp_path)
    loaded = parse_config({"http": {"listen": "127.0.0.1:9090"}, "data_dir": "elsewhere",
                           "sending": {"retry_limit": 5}}, base_dir=tmp_path)
    plan = plan_reload(running, loaded)
    assert plan.needs_restart == ("http", "data_dir")
    assert plan.config.http == running.http
    assert plan.config.data_dir == running.data_dir
    assert plan.config.sending.retry_limit == 5  # applied in place
    assert (plan.removed, plan.changed, plan.added) == ((), (), ())


def test_reload_plan_names_a_switch_to_or_from_modems_auto(tmp_path: Path) -> None:
    listed = parse_config({"modems": _modems({"name": "a", "number": "+15550101"})},
                          base_dir=tmp_path)
    auto = parse_config({"modems": "auto", "lines": [{"name": "a", "number": "+15550101"}]},
                        base_dir=tmp_path)
    to_auto = plan_reload(listed, auto)
    assert not to_auto.discovery_kept
    assert to_auto.removed == ("a",)
    slower = parse_config({"modems": "auto", "lines": [{"name": "a", "number": "+15550101"}],
                           "discovery": {"probe_timeout_s": 9}}, base_dir=tmp_path)
    assert not plan_reload(auto, slower).discovery_kept
    assert plan_reload(auto, auto).discovery_kept


@pytest.mark.parametrize(
    "data_dir_line",
    ["", "data_dir:\n", "data_dir: ./state\n", "data_dir: state/sub\n", "data_dir: /srv/gw\n",
     "data_dir: ~/gw\n", "data_dir: ''\n"],
    ids=["absent", "null", "dot-relative", "relative", "absolute", "home", "empty"],
)
def test_the_light_read_of_data_dir_agrees_with_the_full_load(
    tmp_path: Path, data_dir_line: str
) -> None:
    # `status` and `send` find the daemon's socket through read_data_dir alone.
    path = write(tmp_path, data_dir_line + "modems:\n  - name: a\n    number: '+15550100'\n"
                 "    device: /dev/null\n")
    assert read_data_dir(path) == load_config(path).data_dir


@pytest.mark.parametrize(
    "text", ["data_dir: [a, b]\n", "data_dir: 5\n", "- a list\n", "data_dir: 'unclosed\n"],
    ids=["list", "number", "not-a-mapping", "not-yaml"],
)
def test_the_light_read_leaves_a_file_it_cannot_read_to_the_full_load(
    tmp_path: Path, text: str
) -> None:
    path = write(tmp_path, text)
    assert read_data_dir(path) is None
    assert read_data_dir(tmp_path / "absent.yaml") is None
    with pytest.raises(ConfigError):
        load_config(path)
