"""Finding modems: probing serial ports, watching devices come and go, matching SIMs to lines.

ports (which serial devices there are) -> probe (one port, read-only) -> matching (pure: SIM
identity -> configured line); watcher (inotify on device directories) -> auto (`modems: auto`:
probe, match, bring up).
"""

from gateway.discovery.auto import AutoModems, MatchedDevice, UnknownDevice, modem_config_for
from gateway.discovery.matching import LineMatch, match_line
from gateway.discovery.ports import is_serial_device, list_candidate_ports
from gateway.discovery.probe import ProbeResult, SimState, probe_port
from gateway.discovery.watcher import DeviceWatcher

__all__ = [
    "AutoModems",
    "DeviceWatcher",
    "LineMatch",
    "MatchedDevice",
    "ProbeResult",
    "SimState",
    "UnknownDevice",
    "is_serial_device",
    "list_candidate_ports",
    "match_line",
    "modem_config_for",
    "probe_port",
]
