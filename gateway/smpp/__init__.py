"""SMPP 3.4 lines: the ESME side of operator and aggregator accounts (short codes, long
numbers), beside the modem lines. The PDU codec is smpp.pdu3's; sessions are ours."""

from gateway.smpp.codec import Pdu, SmppError
from gateway.smpp.line import SmppLine, SmppSettings
from gateway.smpp.messages import SmppInbound, SmppReceipt

__all__ = ["Pdu", "SmppError", "SmppInbound", "SmppLine", "SmppReceipt", "SmppSettings"]
