"""Request bodies of the agents' desk: notes, canned replies, wrap-up, contacts, transfer."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from gateway.api.bodies import Body

NoteText = Annotated[str, StringConstraints(min_length=1, max_length=4000)]


class NoteBody(Body):
    text: NoteText


CannedTitle = Annotated[str, StringConstraints(min_length=1, max_length=200)]
CannedText = Annotated[str, StringConstraints(min_length=1, max_length=4000)]
Shortcut = Annotated[str, StringConstraints(min_length=1, max_length=50)]


class CannedBody(Body):
    title: CannedTitle
    text: CannedText
    shared: bool = False
    shortcut: Shortcut | None = None


class CannedUpdateBody(Body):
    title: CannedTitle
    text: CannedText
    shortcut: Shortcut | None = None


class CloseBody(Body):
    wrap_up: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    summary: Annotated[str, StringConstraints(max_length=4000)] | None = None


class ContactBody(Body):
    name: Annotated[str, StringConstraints(max_length=200)] | None = None
    notes: Annotated[str, StringConstraints(max_length=4000)] | None = None
    tags: Annotated[list[Annotated[str, StringConstraints(min_length=1, max_length=50)]],
                    Field(max_length=20, default_factory=list)]
    address: Annotated[str, StringConstraints(max_length=1000)] | None = None


class TransferBody(Body):
    agent: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    queue: bool = False
    note: Annotated[str, StringConstraints(max_length=1000)] | None = None


class PresenceBody(Body):
    status: Literal["available", "away", "wrap_up"]
