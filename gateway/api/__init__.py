"""The agent HTTP and websocket API (aiohttp): routes per resource, the events websocket, auth.

It is handed the service by the daemon and sees only its interface; see docs/API.md.
"""
