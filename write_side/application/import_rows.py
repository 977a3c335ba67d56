"""How one import row is decided: matched by externalId, then email, against the claims the
chunk found stored (one query), and created or updated by the customer commands' decisions."""

from __future__ import annotations

import uuid
from dataclasses import replace

from write_side.application.commands import CustomerCommands
from write_side.application.decisions import CommandMeta, Decision
from write_side.application.import_create import NewCustomers, Planned
from write_side.application.import_keys import claim_ids
from write_side.imports.rows import Row


class RowDecisions:
    """The decisions of import rows (pure reads of the store; nothing is stored here)."""

    def __init__(self, commands: CustomerCommands) -> None:
        self._commands = commands
        self._claims = commands.executor.claims
        self._new = NewCustomers(commands, self._claims)

    def plan(
        self, meta: CommandMeta, row: Row, stored: list[uuid.UUID]
    ) -> Decision[None] | Planned:
        """A row of a chunk: a new customer's events built directly when none of its claims
        is stored (`import_create`), else the per-row decision on the stored claims."""
        if not stored:
            return self._new.plan(meta.principal, row.data)
        return self.decide(meta, row, True, stored)

    def decide(
        self, meta: CommandMeta, row: Row, first: bool, stored: list[uuid.UUID] | None = None
    ) -> Decision[None]:
        """Match by externalId, then email; update the match or create a customer. A first
        attempt trusts the chunk's prefetched claims and, having found no holder, assumes the
        claims free; a race makes the save conflict, and the retry reads everything."""
        owner = self._owner(meta.principal.tenant_id, row, stored if first else None)
        if owner is None:
            return self._commands.decide_create(meta.principal, row.data, optimistic=first)
        return self._commands.decide_update(replace(meta, expected_version=None), owner, row.data)

    def _owner(self, tenant_id: str, row: Row, stored: list[uuid.UUID] | None) -> uuid.UUID | None:
        """The customer holding the row's externalId, else its email. `stored` names the
        row's claims known to exist (None: read each); a claim outside it is not read."""
        found = claim_ids(self._claims, tenant_id, row) if stored is None else stored
        for claim_id in found:
            owner = self._claims.owner_of(claim_id)
            if owner is not None:
                return owner
        return None

    def stored_claims(self, tenant_id: str, rows: list[Row]) -> dict[int, list[uuid.UUID]]:
        """Each row's claims that exist, by line (one query for the chunk; a row's claim ids,
        keyed hashes, are computed once here, not again by each step after)."""
        ids = {row.line: claim_ids(self._claims, tenant_id, row) for row in rows}
        wanted = [claim_id for found in ids.values() for claim_id in found]
        stored = self._claims.stored_claims(wanted) if wanted else set()
        return {line: [c for c in found if c in stored] for line, found in ids.items()}
