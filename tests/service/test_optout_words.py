"""Opt-out words: only a text that is just the word opts out; inside a sentence it is a hint."""

from __future__ import annotations

import pytest

from gateway.service.optout import has_opt_out_hint, is_opt_out
from gateway.service.settings import OPT_IN_WORDS


@pytest.mark.parametrize("text", ["STOP", "stop", " Stop! ", "QUIT.", "end", "Revoke",
                                  "opt out", "OPT-OUT", "Cancel", "unsubscribe", "STOPALL"])
def test_a_text_that_is_only_an_opt_out_word_opts_out(text: str) -> None:
    assert is_opt_out(text)
    assert not has_opt_out_hint(text)


@pytest.mark.parametrize("text", ["stop, thank you", "Please STOP sending these",
                                  "I want to cancel my order", "the end"])
def test_the_word_inside_a_sentence_is_a_hint_not_an_opt_out(text: str) -> None:
    assert not is_opt_out(text)
    assert has_opt_out_hint(text)


@pytest.mark.parametrize("text", ["unstoppable", "Backend down", "hello", "", None])
def test_other_texts_are_neither(text: str | None) -> None:
    assert not is_opt_out(text)
    assert not has_opt_out_hint(text)


def test_start_and_unstop_opt_in_again() -> None:
    assert is_opt_out("start", OPT_IN_WORDS)
    assert is_opt_out("UNSTOP!", OPT_IN_WORDS)
