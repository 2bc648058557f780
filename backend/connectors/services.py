"""Connector writes. Validation per kind first (schemas.py), then the write, then the audit row.

Audit rows name the fields that changed, never their values for ``secret``.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from backend.accounts.models import User
from backend.audit.services import audit_record
from backend.common.errors import ApiError, Conflict
from backend.connectors.models import Connector
from backend.connectors.schemas import ConnectorInvalid, connector_settings_validate
from backend.connectors.selectors import connector_check_admin
from orchestrator_core.net.oauth2 import TOKENS

_UNSET: Any = object()


def _validated(*, kind: str, config: Any, secret: Any, allowed_hosts: Any) -> tuple[dict, dict, list[str]]:
    try:
        return connector_settings_validate(
            kind=kind, config=config, secret=secret, allowed_hosts=allowed_hosts
        )
    except ConnectorInvalid as exc:
        raise ApiError(
            "The connector settings are not valid.", code="CONNECTOR_CONFIG_INVALID", details=exc.problems
        ) from exc


def _save(connector: Connector) -> None:
    try:
        with transaction.atomic():
            connector.save()
    except IntegrityError as exc:
        raise Conflict("A connector with this name already exists.", code="CONNECTOR_NAME_TAKEN") from exc


@transaction.atomic
def connector_create(
    *,
    user: User,
    name: str,
    kind: str,
    config: Any,
    secret: Any,
    allowed_hosts: Any,
    request: Any = None,
) -> Connector:
    connector_check_admin(user=user)
    clean_config, clean_secret, hosts = _validated(
        kind=kind, config=config, secret=secret, allowed_hosts=allowed_hosts
    )
    connector = Connector(
        name=name, kind=kind, config=clean_config, secret=clean_secret, allowed_hosts=hosts, created_by=user
    )
    _save(connector)
    audit_record(
        actor=user,
        action="connector.create",
        request=request,
        target=connector,
        data={"name": name, "kind": kind, "secret_fields": sorted(clean_secret)},
    )
    return connector


@transaction.atomic
def connector_update(
    *,
    connector: Connector,
    user: User,
    name: str = _UNSET,
    kind: str = _UNSET,
    config: Any = _UNSET,
    secret: Any = _UNSET,
    allowed_hosts: Any = _UNSET,
    request: Any = None,
) -> Connector:
    """Partial update. Without ``secret`` the stored secret is kept; with it, it is replaced whole."""
    connector_check_admin(user=user)
    TOKENS.forget(connector.name)  # cached OAuth2 tokens of the old settings
    before = {
        "name": connector.name,
        "kind": connector.kind,
        "config": connector.config,
        "allowed_hosts": connector.allowed_hosts,
    }
    new_kind = connector.kind if kind is _UNSET else kind
    new_secret = connector.secret if secret is _UNSET else secret
    clean_config, clean_secret, hosts = _validated(
        kind=new_kind,
        config=connector.config if config is _UNSET else config,
        secret=new_secret,
        # Hosts derived from the old settings follow a changed URL unless given explicitly.
        allowed_hosts=([] if config is not _UNSET else connector.allowed_hosts)
        if allowed_hosts is _UNSET
        else allowed_hosts,
    )
    if name is not _UNSET:
        connector.name = name
    connector.kind, connector.config, connector.allowed_hosts = new_kind, clean_config, hosts
    connector.secret = clean_secret
    _save(connector)
    after = {"name": connector.name, "kind": new_kind, "config": clean_config, "allowed_hosts": hosts}
    changed = sorted(k for k in after if after[k] != before[k])
    audit_record(
        actor=user,
        action="connector.update",
        request=request,
        target=connector,
        data={
            "name": connector.name,
            "changed": changed,
            "before": {k: before[k] for k in changed},
            "after": {k: after[k] for k in changed},
            "secret_changed": secret is not _UNSET,
            "secret_fields": sorted(clean_secret),
        },
    )
    return connector


@transaction.atomic
def connector_delete(*, connector: Connector, user: User, request: Any = None) -> None:
    connector_check_admin(user=user)
    audit_record(
        actor=user,
        action="connector.delete",
        request=request,
        target=connector,
        data={"name": connector.name, "kind": connector.kind},
    )
    TOKENS.forget(connector.name)
    connector.delete()
