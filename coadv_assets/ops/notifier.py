"""On-call notifications: one JSON payload per incident, posted to a webhook.

The payload carries the fields of PagerDuty's Events API v2 (``routing_key``,
``event_action``, ``dedup_key``, ``payload.summary/severity/source/component/group/
custom_details``, ``links``), Opsgenie's alert API (``message``, ``alias``, ``priority``,
``details``) and a Slack-style ``text``, so that one webhook URL of any of these (or a relay
in front of them) takes it unchanged. The URL comes from the environment variable
``COADV_ONCALL_WEBHOOK``; the PagerDuty routing key, when needed, from
``COADV_ONCALL_ROUTING_KEY``.

Deduplication: ``ops.alerts`` in the warehouse holds one row per incident, keyed by
``dedup_key`` = hash of (component, check, incident identity), where the identity is
run-independent (what is wrong, not when). While that row is open a repeated failure only
counts an occurrence; nothing is sent. When the check passes again (or the job succeeds),
the row is resolved and a later failure pages anew. Without a webhook, the alert goes to
``ops.alerts`` and the log only.
"""

import datetime as dt
import hashlib
import json
import logging
import os
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import dagster as dg

from coadv_assets import paths
from coadv_assets.warehouse import connect

Severity = Literal["critical", "error", "warning", "info"]
Outcome = Literal["paged", "logged", "duplicate"]
_OPSGENIE_PRIORITY = {"critical": "P1", "error": "P2", "warning": "P3", "info": "P5"}

DDL = """
create schema if not exists ops;
create table if not exists ops.alerts (
    dedup_key varchar not null,
    status varchar not null,
    channel varchar not null,
    component varchar not null,
    check_name varchar,
    incident varchar,
    severity varchar not null,
    summary varchar not null,
    payload json not null,
    first_seen_at timestamptz not null,
    last_seen_at timestamptz not null,
    occurrences integer not null,
    resolved_at timestamptz
);
"""


@dataclass(frozen=True)
class Alert:
    """One failure to report. ``component`` is the asset key or ``job:<name>``; ``incident``
    names what is wrong without run ids or figures that change from run to run."""

    summary: str
    severity: Severity
    component: str
    check: str | None
    incident: str
    links: tuple[tuple[str, str], ...] = ()
    details: dict[str, Any] = field(default_factory=dict)
    source: str = "coadv"

    @property
    def dedup_key(self) -> str:
        identity = f"{self.component}|{self.check or ''}|{self.incident}"
        return hashlib.sha256(identity.encode()).hexdigest()[:32]


def payload(alert: Alert, routing_key: str = "", action: str = "trigger") -> dict[str, Any]:
    """The JSON body posted for ``alert`` (see the module docstring for its fields)."""
    details = {
        "component": alert.component,
        "check": alert.check,
        "incident": alert.incident,
        **alert.details,
    }
    links = [{"href": href, "text": text} for href, text in alert.links]
    return {
        "routing_key": routing_key,
        "event_action": action,
        "dedup_key": alert.dedup_key,
        "payload": {
            "summary": alert.summary[:1024],
            "severity": alert.severity,
            "source": alert.source,
            "component": alert.component,
            "group": alert.check or "run",
            "custom_details": details,
        },
        "links": links,
        "summary": alert.summary,
        "severity": alert.severity,
        "source": alert.source,
        "message": alert.summary[:130],
        "alias": alert.dedup_key,
        "priority": _OPSGENIE_PRIORITY[alert.severity],
        "details": details,
        "text": f"[{alert.severity}] {alert.summary}"
        + "".join(f"\n<{href}|{text}>" for href, text in alert.links),
    }


def post_json(url: str, body: dict[str, Any], timeout: float) -> int:
    """POST ``body`` as JSON to ``url``; return the HTTP status. Raises on non-2xx replies
    and network errors (urllib's ``HTTPError`` / ``URLError``)."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body, default=str).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        return int(response.status)


class OnCallNotifier(dg.ConfigurableResource):
    """Posts alerts to the on-call webhook once per incident; see the module docstring.

    ``warehouse_path`` empty means ``$COADV_HOME/warehouse.duckdb``.
    """

    webhook_env: str = "COADV_ONCALL_WEBHOOK"
    routing_key_env: str = "COADV_ONCALL_ROUTING_KEY"
    warehouse_path: str = ""
    timeout_seconds: float = 10.0

    def _db(self) -> Path:
        return Path(self.warehouse_path) if self.warehouse_path else paths.warehouse_path()

    def _webhook(self) -> str:
        return os.environ.get(self.webhook_env, "").strip()

    def notify(self, alert: Alert, log: logging.Logger | None = None) -> Outcome:
        """Report ``alert``; return ``paged`` (posted to the webhook), ``logged`` (no webhook:
        recorded and logged) or ``duplicate`` (its incident is open: occurrence counted).

        A failed POST raises (nothing is recorded, so the next attempt pages again).
        """
        log = log or logging.getLogger(__name__)
        now = dt.datetime.now(dt.UTC)
        key = alert.dedup_key
        with connect(self._db()) as con:
            con.execute(DDL)
            open_rows = con.sql(
                "select count(*) from ops.alerts where dedup_key = ? and status = 'open'",
                params=[key],
            ).fetchall()[0][0]
            if open_rows:
                con.execute(
                    "update ops.alerts set occurrences = occurrences + 1, last_seen_at = ? "
                    "where dedup_key = ? and status = 'open'",
                    [now, key],
                )
        if open_rows:
            log.info(f"on-call: incident {key} still open, not paged again: {alert.summary}")
            return "duplicate"
        url = self._webhook()
        body = payload(alert, os.environ.get(self.routing_key_env, ""))
        if url:
            post_json(url, body, self.timeout_seconds)
            channel: Outcome = "paged"
        else:
            channel = "logged"
        log.error(f"on-call ({channel}, {alert.severity}) {alert.component}: {alert.summary}")
        with connect(self._db()) as con:
            con.execute(DDL)
            con.execute(
                "insert into ops.alerts values (?, 'open', ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, null)",
                [
                    key,
                    "webhook" if url else "table",
                    alert.component,
                    alert.check,
                    alert.incident,
                    alert.severity,
                    alert.summary,
                    json.dumps(body, default=str),
                    now,
                    now,
                ],
            )
        return channel

    def resolve(self, component: str, check: str | None) -> int:
        """Close the open incidents of ``component`` (and ``check``; None for a job); return
        how many were closed. A resolve event is posted for each when a webhook is set."""
        now = dt.datetime.now(dt.UTC)
        with connect(self._db()) as con:
            con.execute(DDL)
            rows = con.sql(
                "select dedup_key, payload from ops.alerts where status = 'open' and "
                "component = ? and check_name is not distinct from ?",
                params=[component, check],
            ).fetchall()
            con.execute(
                "update ops.alerts set status = 'resolved', resolved_at = ? where "
                "status = 'open' and component = ? and check_name is not distinct from ?",
                [now, component, check],
            )
        url = self._webhook()
        if url:
            for _, body in rows:
                resolved = {**json.loads(body), "event_action": "resolve"}
                post_json(url, resolved, self.timeout_seconds)
        return len(rows)
