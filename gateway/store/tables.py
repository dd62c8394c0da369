"""The models' tables, for Core statements: the busy paths build their statements once, at
import, and skip the ORM's unit of work (see gateway.store.database, run_write)."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table

from gateway.store.models import ContactRow, EventRow, LineRow, MessageRow, PartRow

contacts = cast(Table, ContactRow.__table__)
events = cast(Table, EventRow.__table__)
lines = cast(Table, LineRow.__table__)
messages = cast(Table, MessageRow.__table__)
parts = cast(Table, PartRow.__table__)
