"""Typed keys for what the app and each request carry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from aiohttp import web
from prometheus_client import CollectorRegistry

from gateway.config import Config
from gateway.service.access import Principal
from gateway.service.workflow import Workflow


@dataclass(frozen=True, slots=True)
class Auth:
    principal: Principal
    csrf_token: str | None  # set for session logins; tokens carry no ambient credential


CONFIG = web.AppKey("config", Config)
WORKFLOW = web.AppKey("workflow", Workflow)
CLOCK: web.AppKey[Callable[[], datetime]] = web.AppKey("clock")
REGISTRY = web.AppKey("registry", CollectorRegistry)
WEBSOCKETS: web.AppKey[set[web.WebSocketResponse]] = web.AppKey("websockets")

AUTH = web.RequestKey("auth", Auth)
