"""Pure SMS PDU codec (TS 23.040 / TS 23.038): no I/O, no clock, nothing else of ours."""

from gateway.sms.concat import missing_parts, missing_seqs, reassemble
from gateway.sms.counter import count_segments
from gateway.sms.model import (
    Address,
    AddressType,
    Concat,
    DataCoding,
    Deliver,
    EncodedMessage,
    EncodedPart,
    Encoding,
    InformationElement,
    MessageTooLongError,
    Pdu,
    PduError,
    ReportOutcome,
    SegmentCount,
    StatusReport,
    Submit,
)
from gateway.sms.pdu import (
    decode_pdu,
    encode_deliver,
    encode_status_report,
    encode_submit,
    relay_submit_as_deliver,
    report_outcome,
)

__all__ = [
    "Address",
    "AddressType",
    "Concat",
    "DataCoding",
    "Deliver",
    "EncodedMessage",
    "EncodedPart",
    "Encoding",
    "InformationElement",
    "MessageTooLongError",
    "Pdu",
    "PduError",
    "ReportOutcome",
    "SegmentCount",
    "StatusReport",
    "Submit",
    "count_segments",
    "decode_pdu",
    "encode_deliver",
    "encode_status_report",
    "encode_submit",
    "missing_parts",
    "missing_seqs",
    "reassemble",
    "relay_submit_as_deliver",
    "report_outcome",
]
