"""A case's transcript as plain text, JSON or PDF (fpdf2). Customer text is printed as text
only; the PDF uses a Unicode font when the system has one (DejaVu Sans), else the PDF core
font with the characters it cannot show replaced by '?'."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gateway.api.serialize import time
from gateway.service.transcripts import Transcript, TranscriptEntry

UNICODE_FONTS = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/TTF/DejaVuSans.ttf"),
)
KIND_WORDS = {"in": "Customer", "out": "Sent", "note": "Internal note"}


def offset(seconds: float) -> str:
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"+{hours}:{minutes:02d}:{secs:02d}" if hours else f"+{minutes}:{secs:02d}"


def header_lines(t: Transcript) -> list[str]:
    c = t.case.case
    lines = [
        f"Transcript of case #{c.id}",
        f"Phone: {c.phone}" + (f" ({t.case.contact_name})" if t.case.contact_name else ""),
        f"Line: {t.case.line.name if t.case.line else '-'}    Agent: {t.case.agent or '-'}",
        f"Opened: {c.opened_at.isoformat()}    Closed: "
        + (c.closed_at.isoformat() if c.closed_at else "still open"),
    ]
    if c.wrap_up or c.summary:
        lines.append(f"Wrap-up: {c.wrap_up or '-'}" + (f"    Summary: {c.summary}" if c.summary
                                                       else ""))
    lines.append(f"Made {t.made_at.isoformat()} by {t.made_by}")
    return lines


def entry_head(e: TranscriptEntry) -> str:
    who = "" if e.kind == "in" else f" by {e.who}"
    state = f" [{e.state}]" if e.state else ""
    return f"{e.at.isoformat()} ({offset(e.since_start_s)}) {KIND_WORDS[e.kind]}{who}{state}"


def as_text(t: Transcript) -> str:
    out = [*header_lines(t), ""]
    for e in t.entries:
        out.append(entry_head(e))
        out.extend(f"    {line}" for line in e.text.splitlines() or [""])
    return "\n".join(out) + "\n"


def as_json(t: Transcript) -> dict[str, Any]:
    c = t.case.case
    return {
        "case_id": c.id, "phone": c.phone, "contact_name": t.case.contact_name,
        "agent": t.case.agent, "status": c.status, "opened_at": time(c.opened_at),
        "closed_at": time(c.closed_at), "wrap_up": c.wrap_up, "summary": c.summary,
        "started_at": time(t.started_at), "made_at": time(t.made_at), "made_by": t.made_by,
        "entries": [
            {
                "at": time(e.at), "since_start_s": e.since_start_s, "kind": e.kind,
                "who": e.who, "text": e.text, "state": e.state, "message_id": e.message_id,
                "note_id": e.note_id,
            }
            for e in t.entries
        ],
    }


def as_pdf(t: Transcript) -> bytes:
    from fpdf import FPDF  # imported when a PDF is asked for: it is not small

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    font = next((path for path in UNICODE_FONTS if path.is_file()), None)
    if font is not None:
        pdf.add_font("body", fname=str(font))
        family = "body"

        def clean(text: str) -> str:
            return text
    else:
        family = "helvetica"

        def clean(text: str) -> str:
            return text.encode("latin-1", "replace").decode("latin-1")

    width = pdf.epw
    pdf.set_font(family, size=13)
    pdf.multi_cell(width, 7, clean(header_lines(t)[0]), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, size=9)
    for line in header_lines(t)[1:]:
        pdf.multi_cell(width, 5, clean(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    for e in t.entries:
        pdf.set_text_color(90, 90, 90)
        pdf.set_font(family, size=8)
        pdf.multi_cell(width, 4, clean(entry_head(e)), new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
        pdf.set_font(family, size=10)
        pdf.multi_cell(width, 5, clean(e.text) or " ", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
    return bytes(pdf.output())
