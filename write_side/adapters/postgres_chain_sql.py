"""The hash chain computed inside PostgreSQL, in the events' own transaction.

`write_side.application.audit_chain` defines the chain; this function computes the same bytes
with PostgreSQL's `sha256()`, so a batch's chain rows cost no round trip of their own: the
recorder queues `SELECT * FROM customers_chain_v1()` in the pipeline right after the events'
insert, and its one-row answer (how many rows, the last position and log hash, for the signed
checkpoint) arrives with the insert's own results. Computed in Python, the chain had to wait
for the log head (and the continuing aggregates' last hashes) while the batch held the events'
table lock — one more round trip per batch, a tenth of the creates/s at 32 clients.

Which events to chain needs no argument: the caller holds the table lock, so the events after
the chain's head are exactly the ones this transaction inserted. Their hashes are computed in
one set-based query on each aggregate's latest stored hash; only when an aggregate has several
events in the batch are they computed row by row in (aggregate, version) order, so its earlier
event is the row just before. The log digest then runs over them in position order. The
verifier recomputes every byte in Python (`audit_verify`), and the tamper tests compare both.
"""

from __future__ import annotations

from typing import LiteralString

from psycopg.sql import SQL, Composed, Identifier

FUNCTION = "customers_chain_v1"

_BODY: LiteralString = """
CREATE OR REPLACE FUNCTION {function}()
RETURNS TABLE (chained integer, last_position bigint, last_log bytea)
LANGUAGE plpgsql AS $chain$
DECLARE
  genesis CONSTANT bytea := decode(repeat('00', 32), 'hex');
  head bigint := 0;
  running bytea := genesis;
  r record;
  previous_id uuid;
  before bytea;
  digest bytea;
  topic_bytes bytea;
  repeated boolean;
  positions bigint[];
  ids uuid[];
  versions bigint[];
  hashes bytea[];
  logs bytea[] := '{{}}';
BEGIN
  SELECT c.position, c.log_hash INTO head, running FROM {chain} AS c
    ORDER BY c.position DESC LIMIT 1;
  IF NOT FOUND THEN
    head := 0;
    running := genesis;
  END IF;
  -- Set-based: each event hashed on its aggregate's latest stored hash, in position order.
  SELECT array_agg(b.position ORDER BY b.position), array_agg(b.id ORDER BY b.position),
         array_agg(b.version ORDER BY b.position),
         array_agg(sha256(b.before || uuid_send(b.id) || int8send(b.version)
                          || int4send(octet_length(b.topic)) || b.topic || b.state)
                   ORDER BY b.position),
         COALESCE(bool_or(b.repeated), false)
    INTO positions, ids, versions, hashes, repeated
    FROM (SELECT e.notification_id AS position, e.originator_id AS id,
                 e.originator_version AS version, convert_to(e.topic, 'UTF8') AS topic, e.state,
                 CASE WHEN e.originator_version = 1 THEN genesis ELSE COALESCE((
                   SELECT c.hash FROM {chain} AS c WHERE c.originator_id = e.originator_id
                   ORDER BY c.originator_version DESC LIMIT 1), genesis) END AS before,
                 count(*) OVER (PARTITION BY e.originator_id) > 1 AS repeated
          FROM {events} AS e WHERE e.notification_id > head) AS b;
  IF positions IS NULL THEN
    RETURN QUERY SELECT 0, head, running;
    RETURN;
  END IF;
  IF repeated THEN
    -- An aggregate has several events in this batch: each hashes on the one before it, so
    -- the batch is hashed row by row in (aggregate, version) order instead.
    positions := '{{}}';
    ids := '{{}}';
    versions := '{{}}';
    hashes := '{{}}';
    FOR r IN
      SELECT e.notification_id AS position, e.originator_id AS id,
             e.originator_version AS version, e.topic, e.state,
             CASE WHEN e.originator_version > 1 THEN (
               SELECT c.hash FROM {chain} AS c WHERE c.originator_id = e.originator_id
               ORDER BY c.originator_version DESC LIMIT 1) END AS stored
      FROM {events} AS e WHERE e.notification_id > head
      ORDER BY e.originator_id, e.originator_version
    LOOP
      IF r.version = 1 THEN
        before := genesis;
      ELSIF r.id = previous_id THEN
        before := digest;
      ELSE
        before := COALESCE(r.stored, genesis);
      END IF;
      topic_bytes := convert_to(r.topic, 'UTF8');
      digest := sha256(before || uuid_send(r.id) || int8send(r.version)
                       || int4send(octet_length(topic_bytes)) || topic_bytes || r.state);
      positions := positions || r.position;
      ids := ids || r.id;
      versions := versions || r.version;
      hashes := hashes || digest;
      previous_id := r.id;
    END LOOP;
    SELECT array_agg(u.p ORDER BY u.p), array_agg(u.i ORDER BY u.p),
           array_agg(u.v ORDER BY u.p), array_agg(u.h ORDER BY u.p)
      INTO positions, ids, versions, hashes
      FROM unnest(positions, ids, versions, hashes) AS u(p, i, v, h);
  END IF;
  FOR n IN 1 .. cardinality(positions) LOOP
    running := sha256(running || int8send(positions[n]) || hashes[n]);
    logs := logs || running;
  END LOOP;
  INSERT INTO {chain} SELECT * FROM unnest(positions, ids, versions, hashes, logs);
  RETURN QUERY SELECT cardinality(positions), positions[cardinality(positions)], running;
END
$chain$
"""


def create_function(schema: str, events_table: str) -> Composed:
    """The statement that (re)creates the chaining function in the event store's schema."""
    return SQL(_BODY).format(
        function=SQL("{}.{}").format(Identifier(schema), Identifier(FUNCTION)),
        chain=SQL("{}.{}").format(Identifier(schema), Identifier("event_chain")),
        events=SQL("{}.{}").format(Identifier(schema), Identifier(events_table)),
    )


def call_function(schema: str) -> Composed:
    """The statement the recorder queues after the events' insert."""
    return SQL("SELECT chained, last_position, last_log FROM {}.{}()").format(
        Identifier(schema), Identifier(FUNCTION)
    )
