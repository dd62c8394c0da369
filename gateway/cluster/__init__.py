"""Several gateway hosts on one PostgreSQL database: leases, the event feed, cluster views.

Imported only when config.yaml has a `node:` section; a lone daemon never loads it.
"""

from gateway.cluster.feed import ClusterBus, EventFeed, ListenUnsupportedError, check_listen
from gateway.cluster.member import ClusterMember

__all__ = ["ClusterBus", "ClusterMember", "EventFeed", "ListenUnsupportedError", "check_listen"]
