"""A simulated GSM network whose modems real SMS software accepts: SMSC, handsets, AT modems.

Layers: atparse (pure V.25ter parsing) -> modem (+ at_general, at_sms, receive, storage, state)
-> network / handset -> transport (pty, in-memory) -> control (HTTP) -> runner (everything).
Only gateway.sms is imported from the rest of the product.
"""

from gateway.sim.control import create_control_app, describe_modem
from gateway.sim.faults import FAULT_KINDS, FaultError, apply_fault
from gateway.sim.handset import Handset, InboxMessage
from gateway.sim.modem import SimModem
from gateway.sim.network import SimNetwork
from gateway.sim.profiles import PROFILES, Profile, get_profile
from gateway.sim.runner import SimRunner, msisdn_for
from gateway.sim.transport import InMemoryTransport, PtyPort, open_in_memory, open_pty
from gateway.sim.wire import TranscriptEntry

__all__ = [
    "FAULT_KINDS",
    "PROFILES",
    "FaultError",
    "Handset",
    "InMemoryTransport",
    "InboxMessage",
    "Profile",
    "PtyPort",
    "SimModem",
    "SimNetwork",
    "SimRunner",
    "TranscriptEntry",
    "apply_fault",
    "create_control_app",
    "describe_modem",
    "get_profile",
    "msisdn_for",
    "open_in_memory",
    "open_pty",
]
