"""The workflow's settings, taken from the daemon's configuration in one place."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from gateway.config import Config
from gateway.service.optout import DEFAULT_OPT_OUT_WORDS

# How long answering waits for the address search before returning the case without it; the
# search goes on and the case is updated (case.updated) when it finishes.
DEFAULT_ANSWER_ADDRESS_WAIT_S = 0.5
DEFAULT_TICK_INTERVAL_S = 1.0
DEFAULT_SWEEP_BATCH = 500
OPT_IN_WORDS: tuple[str, ...] = ("START", "UNSTOP")


@dataclass(frozen=True, slots=True)
class ChatSettings:
    default_region: str = "US"
    max_parts: int = 10
    status_reports: bool = True
    validity_minutes: int | None = 24 * 60
    concat_ref_bits: Literal[8, 16] = 8
    routing_mode: Literal["ring_all", "round_robin"] = "ring_all"
    overdue_after_s: float = 120.0
    round_robin_offer_s: float = 30.0
    offline_after_s: float = 60.0
    opt_out_words: tuple[str, ...] = DEFAULT_OPT_OUT_WORDS
    opt_in_words: tuple[str, ...] = OPT_IN_WORDS
    address_timeout_s: float = 2.0
    answer_address_wait_s: float = DEFAULT_ANSWER_ADDRESS_WAIT_S
    tick_interval_s: float = DEFAULT_TICK_INTERVAL_S
    sweep_batch: int = DEFAULT_SWEEP_BATCH
    wrap_up_codes: tuple[str, ...] = ()
    max_open_cases: int = 0
    reply_overdue_s: float = 300.0
    opt_out_confirmation: str | None = None
    retention_message_days: int | None = None
    wrap_up_time_s: float = 0.0
    require_wrap_up: bool = False

    @classmethod
    def from_config(cls, config: Config) -> ChatSettings:
        return cls(
            default_region=config.default_region,
            max_parts=config.sending.max_parts,
            status_reports=config.sending.status_reports,
            validity_minutes=config.sending.validity_minutes,
            concat_ref_bits=config.sending.concat_ref_bits,
            routing_mode=config.routing.mode,
            overdue_after_s=config.routing.overdue_after_s,
            round_robin_offer_s=config.routing.round_robin_offer_s,
            offline_after_s=config.routing.offline_after_s,
            opt_out_words=config.opt_out_words or DEFAULT_OPT_OUT_WORDS,
            address_timeout_s=config.address_search.timeout_s,
            wrap_up_codes=config.cases.wrap_up_codes,
            max_open_cases=config.routing.max_open_cases,
            reply_overdue_s=config.cases.reply_overdue_s,
            opt_out_confirmation=config.optout.confirmation_text,
            retention_message_days=config.retention.message_days,
            wrap_up_time_s=config.routing.wrap_up_time_s,
            require_wrap_up=config.cases.require_wrap_up,
        )
