"""Messages about a merged source (docs/decisions.md "Merge and unmerge"): a sender's
notification statuses for a message sent to the source before the merge are recorded on the
target (they follow `mergedInto`, as payments do), through the batched consumer and the
one-by-one handler alike; an erasure of the target also removes the dead letters naming the
sources it absorbed (they are erased with it)."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from shared.errors import Conflict
from shared.integration import NotificationEvent
from shared.principal import Principal, Role
from tests.integration.broker_fixtures import publish, until
from tests.integration.test_notifications_consumer import broker, notice, subscriptions
from write_side.application.commands import CustomerCommands, ProfileInput
from write_side.application.decisions import CommandMeta
from write_side.application.merges import MergeCommands
from write_side.application.privacy import Identity, PrivacyCommands
from write_side.inbound.consumer import InboundConsumer
from write_side.inbound.handlers import InboundHandlers, notification

__all__ = ["broker", "subscriptions"]  # the notification queue's fixtures
META = CommandMeta(Principal("alice", "acme", frozenset({Role.ADMIN})))


async def _merged(commands: CustomerCommands) -> tuple[Any, Any]:
    """Ann (the target to be) and Annie (the source, with an email)."""
    ann = (await commands.create(META, ProfileInput({"firstName": "Ann"}))).customer
    annie = (
        await commands.create(META, ProfileInput({"firstName": "Annie", "email": "a@x.org"}))
    ).customer
    return ann, annie


async def test_a_merged_sources_notification_statuses_are_recorded_on_its_target(
    commands: CustomerCommands, handlers: InboundHandlers, broker: Any, amqp_url: str,
    subscriptions: Any,
) -> None:  # fmt: skip
    ann, annie = await _merged(commands)
    sent = json.dumps(notice(str(annie.id))).encode()
    await handlers.handle("notification.sent", sent)  # before the merge: Annie's own
    await MergeCommands(commands.executor).merge(META, ann.id, annie.id)
    consumer = InboundConsumer(amqp_url, handlers, subscriptions=subscriptions)
    await consumer.start()
    exchange = subscriptions[0].exchange
    try:  # when the sender reports on it after the merge (batched: the queue's consumer)
        for status, message_id in (("sent", "m-sent"), ("delivered", "m-delivered")):
            await publish(broker, exchange, f"notification.{status}", notice(str(annie.id)),
                          message_id)  # fmt: skip
        await until(lambda: consumer.applied == 2)
    finally:
        await consumer.stop()
    opened = json.dumps(notice(str(annie.id))).encode()
    await handlers.handle("notification.opened", opened)  # one by one: the same
    repository = commands.executor.repository
    target, source = repository.get("acme", ann.id), repository.get("acme", annie.id)
    assert consumer.dead_lettered == 0
    assert target.communications == {"n-1:sent", "n-1:delivered", "n-1:opened"}
    assert source.communications == {"n-1:sent"} and source.state == "merged"


async def test_erasing_a_target_hands_its_sources_identities_to_the_dead_letter_purge(
    commands: CustomerCommands,
) -> None:
    ann, annie = await _merged(commands)
    await MergeCommands(commands.executor).merge(META, ann.id, annie.id)
    privacy = PrivacyCommands(commands.executor)
    seen: list[Identity] = []

    async def purge(identity: Identity) -> None:
        seen.append(identity)

    privacy.before_erase.append(purge)
    with pytest.raises(Conflict, match="merged into"):
        await privacy.erase(META, annie.id, None)
    assert seen == []  # a merged source's erasure is refused: nothing goes first
    await privacy.erase(META, ann.id, None)
    assert [(i.customer_id, i.email) for i in seen] == [
        (str(ann.id), "a@x.org"),  # the target holds Annie's email now
        (str(annie.id), "a@x.org"),
    ]
    assert commands.executor.repository.get("acme", annie.id).state == "erased"


async def test_a_hard_bounce_of_a_sources_address_leaves_a_target_with_its_own_deliverable(
    commands: CustomerCommands, handlers: InboundHandlers,
) -> None:  # fmt: skip
    """Given Ann (her own email) and Bea (none) who absorbed Annie and Beatrice, when the
    sender reports a hard bounce of the sources' messages (one by one, and in a batch), then
    only Bea, who took Beatrice's address, holds an undeliverable email."""
    ann = (await commands.create(META, ProfileInput({"email": "ann@x.org"}))).customer
    bea, beatrice = await _merged(commands)
    annie = (await commands.create(META, ProfileInput({"email": "annie@x.org"}))).customer
    merges = MergeCommands(commands.executor)
    await merges.merge(META, ann.id, annie.id)
    await merges.merge(META, bea.id, beatrice.id)
    bounce = notice(str(annie.id), bounceType="hard")
    await handlers.handle("notification.bounced", json.dumps(bounce).encode())
    await handlers.engagement.record_communication_batches([_bounced(annie.id, "n-2")])
    repository = commands.executor.repository
    assert repository.get("acme", ann.id).email_deliverable is True
    assert repository.get("acme", ann.id).communications == {"n-1:bounced", "n-2:bounced"}
    await handlers.engagement.record_communication_batches([_bounced(beatrice.id, "n-3")])
    target = repository.get("acme", bea.id)
    assert target.profile["email"] == "a@x.org" and target.email_deliverable is False


def _bounced(customer_id: Any, notification_id: str) -> Any:
    """A batch entry: a hard bounce reported about `customer_id`."""
    body = notice(str(customer_id), bounceType="hard", notificationId=notification_id)
    event = msgspec.json.decode(json.dumps(body), type=NotificationEvent)
    return (META, customer_id, [notification(event, "notification.bounced")])
