"""Events are built one way in every service: past-tense records in ``domain/events.py``
turned into CloudEvents by ``shopkit.events.cloud_event``, with one ``source`` convention,
checked against the producer's JSON Schemas; and no subgraph keeps an outbox or inbox of its
own (they are the kit's, ``shopkit.events.store``)."""

from __future__ import annotations

import importlib
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

import jsonschema
import pytest

from shopkit.events import cloud_event
from shopkit.events.schemas import producer_schemas
from shopkit.settings import REPO_ROOT

SERVICES = ["items", "orders", "payments", "accounts"]


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_names_the_types_it_produces_and_keeps_a_schema_for_each(
    service: str,
) -> None:
    events = importlib.import_module(f"subgraphs.{service}.domain.events")
    assert service == events.PRODUCER
    assert sorted(events.PRODUCES) == producer_schemas(service).types


@dataclass(frozen=True)
class AccountRegistered:
    type: ClassVar[str] = "account.created"
    account_id: str
    name: str

    @property
    def aggregate_id(self) -> str:
        return self.account_id

    def data(self) -> dict[str, Any]:
        return {
            "accountId": self.account_id,
            "email": "ada@example.com",
            "name": self.name,
            "role": "CUSTOMER",
            "createdAt": datetime.now(UTC).isoformat(),
        }


def test_a_cloud_event_has_the_producers_source_the_aggregate_as_subject_and_its_headers() -> None:
    account_id = str(uuid.uuid4())
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

    event = cloud_event(
        AccountRegistered(account_id, "Ada"),
        producer="accounts",
        time=at,
        headers={"traceparent": "00-1-2-01"},
    )

    assert (event.type, event.source, event.subject) == (
        "account.created",
        "shop/accounts",
        account_id,
    )
    assert event.topic == "shop.account"
    assert event.time == at.isoformat()
    assert event.data["accountId"] == account_id
    assert event.headers == {"traceparent": "00-1-2-01"}
    assert "headers" not in event.to_dict()
    uuid.UUID(event.id)


def test_an_event_against_its_producers_schema_is_refused() -> None:
    with pytest.raises(jsonschema.ValidationError):
        cloud_event(AccountRegistered(str(uuid.uuid4()), ""), producer="accounts")


def test_no_subgraph_defines_an_outbox_or_inbox_of_its_own() -> None:
    defines = re.compile(r"^class \w*(Outbox|Inbox)", re.MULTILINE)
    found = [
        str(path.relative_to(REPO_ROOT))
        for path in sorted((REPO_ROOT / "subgraphs").rglob("*.py"))
        if defines.search(path.read_text())
    ]
    assert found == []
