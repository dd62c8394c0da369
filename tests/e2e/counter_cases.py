"""Texts that are easy to count wrongly, and what the server's codec says about them."""

from __future__ import annotations

import random
from typing import Any

from gateway.sms import count_segments

EXTENSION = "€[]{}^~|\\\f"
SMART = "“”‘’—–…\u00a0"
EMOJI = "😀👍🏽🇺🇸"


def tricky_texts() -> list[str]:
    texts = [
        "", "Hello", "€", EXTENSION, "a" * 160, "a" * 161, "€" * 80, "€" * 81,
        "a" * 159 + "€", "a" * 152 + "€", "a" * 153 + "€" + "a" * 10, "[" * 77 + "a" * 2,
        "😀", "😀" * 35, "😀" * 36, "a" * 69 + "😀", "a" * 66 + "😀" + "a" * 10,
        "“smart quotes” and it’s — fine…", "Ça va? àéèìòù ÄÖÑÜäöñü ç",
        "line\nbreak\r\n", "Tab\there", "Привет, мир", "中文" * 40, "👍🏽 ok", "🇺🇸🇺🇸",
        "e\u0301", "\u00a0", "x" * 1530, "x" * 1531, "€" * 765, "€" * 766, "😀" * 335,
        "😀" * 336, "ö" * 200, "a" * 1000 + "😀", "@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡Ä§¿",
        "`backtick`", "<img src=x onerror=alert(1)>",
    ]
    rng = random.Random(20240517)
    alphabet = "abc XYZ 019.,!?" + EXTENSION + SMART + EMOJI + "é中"
    for _ in range(150):
        length = rng.choice((5, 70, 150, 160, 161, 300, 700))
        texts.append("".join(rng.choice(alphabet) for _ in range(length)))
    return texts


def python_counts(texts: list[str], max_parts: int) -> list[list[Any]]:
    out = []
    for text in texts:
        c = count_segments(text, max_parts)
        out.append([c.encoding, c.parts, c.units_used, c.units_left, c.characters,
                    list(c.ucs2_characters), c.too_long])
    return out
