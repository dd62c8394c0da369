"""Request bodies of the agents' desk: notes, canned replies, wrap-up, contacts, transfer."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

from gateway.api.bodies import Body

NoteText = Annotated[str, StringConstraints(min_length=1, max_length=4000)]


class NoteBody(Body):
    text: NoteText
