"""Re-delivers the events a consumer group parked on ``<topic>.dlq``, once what made them fail
is fixed: ``python -m shopkit.events.replay --group items --topic shop.order``
(``make replay-dlq GROUP=items TOPIC=shop.order``).

A consumer parks only what can never succeed as it stands (not a CloudEvent, against its JSON
Schema, rejected by its handler), so a replay makes sense after a fix: a handler or a schema
corrected and deployed. The command publishes each parked record of the group again to its
topic, with its key (so it stays in its aggregate's partition), its own headers and the
header ``shop-replay-for: <group>``: every other group skips it, and the group that parked it
handles it as any event (schema, inbox, handler). One that still cannot succeed is parked
again.

Which parked records: the group's, after the offsets this command committed last time (the
consumer group ``<group>.replay`` on the dead-letter topic), up to the end of the dead-letter
topic as it was when the command started. ``--from-beginning`` takes them all again;
``--list`` prints them and changes nothing. The command runs against whatever Kafka
``--bootstrap`` (default: ``SHOP_KAFKA_BOOTSTRAP``) names, so it works on any deployment.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import ConsumerRecord, TopicPartition

from shopkit.events.envelope import KIT_HEADER_PREFIX
from shopkit.events.kafka import (
    ERROR_HEADER,
    GROUP_HEADER,
    REASON_HEADER,
    REPLAY_FOR_HEADER,
    dead_letter_topic,
    idempotent_producer,
)
from shopkit.settings import ServiceSettings

REPLAY_GROUP_SUFFIX = ".replay"
REPLAYED_FROM_HEADER = "shop-replayed-from"
MAX_EMPTY_POLLS = 30  # of a second each: the broker is not answering


@dataclass(frozen=True)
class Parked:
    """One parked record of the group."""

    where: str  # <dead-letter topic>/<partition>/<offset>
    key: bytes | None
    value: bytes
    reason: str
    error: str
    headers: list[tuple[str, bytes]] = field(default_factory=list)  # the event's own

    def describe(self) -> str:
        try:
            raw = json.loads(self.value)
            what = f"{raw['type']} {raw['id']}"
        except (ValueError, KeyError, TypeError):
            what = "(not a CloudEvent)"
        return f"{self.where} {what} [{self.reason}: {self.error}]"


def _header(record: ConsumerRecord[bytes, bytes], name: str) -> str:
    for key, value in record.headers or ():
        if key == name:
            return value.decode(errors="replace")
    return ""


async def _partitions_of(bootstrap: str, topic: str) -> list[TopicPartition]:
    """The partitions of ``topic``; none if it does not exist."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [described] = await admin.describe_topics([topic])
    finally:
        await admin.close()
    if described["error_code"] != 0:
        return []
    return [TopicPartition(topic, p["partition"]) for p in described["partitions"]]


async def replay_parked(
    bootstrap: str,
    group: str,
    topic: str,
    *,
    from_beginning: bool = False,
    dry_run: bool = False,
    say: Callable[[str], None] = lambda _: None,
) -> list[Parked]:
    """Re-delivers ``group``'s parked events of ``topic`` (see the module's docstring) and
    returns them; ``dry_run`` only reads them."""
    dlq = dead_letter_topic(topic)
    reader = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=f"{group}{REPLAY_GROUP_SUFFIX}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    producer = None if dry_run else idempotent_producer(bootstrap)
    found: list[Parked] = []
    try:
        await reader.start()
        if producer is not None:
            await producer.start()
        partitions = await _partitions_of(bootstrap, dlq)
        if not partitions:
            say(f"{dlq} does not exist: nothing was ever parked there")
            return found
        reader.assign(partitions)
        for tp in partitions:
            committed = None if from_beginning else await reader.committed(tp)
            if committed is None:
                await reader.seek_to_beginning(tp)
            else:
                reader.seek(tp, committed)
        ends = await reader.end_offsets(partitions)
        for tp in partitions:
            empty_polls = 0
            while await reader.position(tp) < ends[tp]:
                batch = await reader.getmany(tp, timeout_ms=1000)
                empty_polls = 0 if batch else empty_polls + 1
                if empty_polls >= MAX_EMPTY_POLLS:
                    raise RuntimeError(f"{tp.topic}/{tp.partition}: no records came in time")
                for record in batch.get(tp, []):
                    if record.offset >= ends[tp] or _header(record, GROUP_HEADER) != group:
                        continue
                    parked = Parked(
                        where=f"{dlq}/{tp.partition}/{record.offset}",
                        key=record.key,
                        value=record.value or b"",
                        reason=_header(record, REASON_HEADER),
                        error=_header(record, ERROR_HEADER),
                        headers=[
                            (k, v)
                            for k, v in record.headers or ()
                            if not k.startswith(KIT_HEADER_PREFIX)
                        ],
                    )
                    if producer is not None:
                        await producer.send_and_wait(
                            topic,
                            value=parked.value,
                            key=parked.key,
                            headers=[
                                *parked.headers,
                                (REPLAY_FOR_HEADER, group.encode()),
                                (REPLAYED_FROM_HEADER, parked.where.encode()),
                            ],
                        )
                    say(f"{'parked' if dry_run else 'replayed'} {parked.describe()}")
                    found.append(parked)
            if not dry_run:
                await reader.commit({tp: ends[tp]})
    finally:
        await reader.stop()
        if producer is not None:
            await producer.stop()
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m shopkit.events.replay",
        description="Re-deliver the events a consumer group parked on <topic>.dlq.",
    )
    parser.add_argument("--group", required=True, help="the consumer group (a service name)")
    parser.add_argument("--topic", required=True, help="the topic, e.g. shop.order")
    parser.add_argument(
        "--bootstrap",
        default=os.environ.get(
            "SHOP_KAFKA_BOOTSTRAP", ServiceSettings.model_fields["kafka_bootstrap"].default
        ),
        help="Kafka host:port (default: $SHOP_KAFKA_BOOTSTRAP or the local stack's)",
    )
    parser.add_argument(
        "--from-beginning",
        action="store_true",
        help="take every parked event again, not only those parked since the last replay",
    )
    parser.add_argument("--list", action="store_true", help="print them; re-deliver nothing")
    args = parser.parse_args(argv)
    if args.topic.endswith(".dlq"):
        parser.error("--topic is the original topic (shop.order), not its dead-letter topic")
    parked = asyncio.run(
        replay_parked(
            args.bootstrap,
            args.group,
            args.topic,
            from_beginning=args.from_beginning,
            dry_run=args.list,
            say=print,
        )
    )
    verb = "parked" if args.list else "re-delivered"
    print(f"{len(parked)} event(s) of group {args.group} {verb} from {args.topic}.dlq")
    return 0


if __name__ == "__main__":
    sys.exit(main())
