"""Outbound HTTP for nodes: the SSRF policy (`policy`) and a guarded client (`client`).

Pure Python (httpx), no Django: the server wires connector lookup in ``backend/connectors/http.py``.
"""

from orchestrator_core.net.client import ConnectorTarget, SafeHttpClient
from orchestrator_core.net.policy import DestinationNotAllowed, EgressPolicy, ip_block_reason

__all__ = ["ConnectorTarget", "DestinationNotAllowed", "EgressPolicy", "SafeHttpClient", "ip_block_reason"]
