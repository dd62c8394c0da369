"""What a re-read config.yaml changes: the pure diff that a reload (SIGHUP) applies.

Settings the running daemon cannot change in place (the HTTP listener, the database, the data
directory, the simulator, the cluster node, `modems: auto` and discovery) keep their running
values and are named as needing a restart; modems are compared entry by entry, so only those
added, removed or changed are touched.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.config import Config, ModemConfig

# Top-level settings a reload leaves as they are (a restart applies them).
RESTART_ONLY_SETTINGS = ("http", "database", "data_dir", "simulator", "smpp", "node")
DISCOVERY_SETTING = "modems: auto / discovery"


@dataclass(frozen=True, slots=True)
class ReloadPlan:
    config: Config  # the new configuration, with the restart-only settings as they run
    needs_restart: tuple[str, ...]  # settings changed in the file that a reload cannot apply
    removed: tuple[str, ...]  # modem names, in the order to stop them
    changed: tuple[ModemConfig, ...]  # modems to restart with their new entry
    added: tuple[ModemConfig, ...]

    @property
    def discovery_kept(self) -> bool:
        """Whether `modems: auto` and its discovery settings are unchanged (or not in use)."""
        return DISCOVERY_SETTING not in self.needs_restart


def plan_reload(running: Config, loaded: Config) -> ReloadPlan:
    needs_restart: list[str] = []
    config = loaded
    for key in RESTART_ONLY_SETTINGS:
        if getattr(running, key) != getattr(loaded, key):
            needs_restart.append(key)
            config = config.model_copy(update={key: getattr(running, key)})
    if running.modems_auto != loaded.modems_auto or (
        loaded.modems_auto and running.discovery != loaded.discovery
    ):
        needs_restart.append(DISCOVERY_SETTING)
    old = {m.name: m for m in running.modem_list}
    new = {m.name: m for m in config.modem_list}
    return ReloadPlan(
        config=config,
        needs_restart=tuple(needs_restart),
        removed=tuple(name for name in old if name not in new),
        changed=tuple(new[name] for name in sorted(old.keys() & new.keys())
                      if old[name] != new[name]),
        added=tuple(new[name] for name in sorted(new.keys() - old.keys())),
    )
