"""The message pipeline: modem sinks that commit inbound parts and status reports, per-line
senders that move queued parts through AT+CMGS, and the release of overdue partial messages."""

from gateway.bus import Publisher
from gateway.pipeline.inbound import InboundHandler, decode_inbound
from gateway.pipeline.outbound import LineSender

__all__ = ["InboundHandler", "LineSender", "Publisher", "decode_inbound"]
