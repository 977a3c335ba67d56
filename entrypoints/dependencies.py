"""What controllers take by name, provided once for the whole app in one style: a typed
function of the app's state per service (the caller's `principal` comes from the auth layer).

The runtime is opened by the lifespan, after the app is built, so the services are read from
`app.state.runtime` per request rather than bound at construction.
"""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import Provide

from entrypoints.runtime import Runtime
from projectors.discovery import is_internal
from read_side.alert_store import AlertStore
from read_side.duplicates import DuplicateFinder
from read_side.engagement import EngagementReads
from read_side.export import CustomerExport
from read_side.projections.live import LiveProjections
from read_side.queries import CustomerQueries
from read_side.records import CustomerRecords
from read_side.segments.members import SegmentMembers
from shared.export_signature import ExportSigner
from shared.http.auth import PRINCIPAL_DEPENDENCY
from shared.settings import Settings
from write_side.application.attendees import AttendeeProcessing
from write_side.application.commands import CustomerCommands
from write_side.application.commerce import CommerceCommands
from write_side.application.engagement import EngagementCommands
from write_side.application.imports import ImportCommands
from write_side.application.loyalty import LoyaltyCommands
from write_side.application.merges import MergeCommands
from write_side.application.privacy import PrivacyCommands
from write_side.application.segments import SegmentCommands


def runtime_of(state: State) -> Runtime:
    """The running service (set by the lifespan before the first request)."""
    runtime: Runtime = state.runtime
    return runtime


def provide_commands(state: State) -> CustomerCommands:
    """Create, update, delete and restore."""
    return runtime_of(state).commands


def provide_attendees(state: State) -> AttendeeProcessing:
    """An order's attendees to customers."""
    return runtime_of(state).attendees


def provide_commerce(state: State) -> CommerceCommands:
    """Billing details and invoices."""
    return runtime_of(state).commerce


def provide_privacy(state: State) -> PrivacyCommands:
    """Consents and erasure."""
    return runtime_of(state).privacy


def provide_merges(state: State) -> MergeCommands:
    """Merge and unmerge (over the customers' own executor)."""
    return MergeCommands(runtime_of(state).commands.executor)


def provide_loyalty(state: State) -> LoyaltyCommands:
    """Loyalty programs and ledgers."""
    return runtime_of(state).loyalty


def provide_engagement(state: State) -> EngagementCommands:
    """Preferences, notes and communications."""
    return runtime_of(state).engagement


def provide_engagement_reads(state: State) -> EngagementReads:
    """Preferences, notes, contactability, timeline and communications, read."""
    return runtime_of(state).engagement_reads


def provide_queries(state: State) -> CustomerQueries:
    """Reads of the read models and the event stream."""
    return runtime_of(state).queries


def provide_records(state: State) -> CustomerRecords:
    """A customer's records, and the access audit."""
    return runtime_of(state).records


def provide_export(state: State) -> CustomerExport:
    """The bulk export of a tenant's customers."""
    return runtime_of(state).export


def provide_imports(state: State) -> ImportCommands:
    """Bulk imports of customers from a file."""
    return runtime_of(state).imports


def provide_duplicates(state: State) -> DuplicateFinder:
    """Duplicate suggestions over the search index (a thin object over the queries)."""
    return DuplicateFinder(runtime_of(state).queries)


def provide_projections(state: State) -> LiveProjections:
    """The added projections' live stores (analytics and projection documents); the built-in
    internal ones (timeline, contactability) are served by their own endpoints only."""
    plugins = runtime_of(state).plugins.items()
    return LiveProjections({name: p.live for name, p in plugins if not is_internal(p.projection)})


def provide_segments(state: State) -> SegmentCommands:
    """Segment definitions (set up by the lifespan)."""
    segments: SegmentCommands = state.segments
    return segments


def provide_segment_members(state: State) -> SegmentMembers:
    """Segment membership, evaluated at its clock's moment (set up by the lifespan, where a
    test can reach the clock)."""
    members: SegmentMembers = state.segment_members
    return members


def provide_alerts(state: State) -> AlertStore:
    """The security alerts kept for auditors."""
    return runtime_of(state).read.alerts


def provide_settings(state: State) -> Settings:
    """The settings the service runs with."""
    return runtime_of(state).settings


def provide_export_signer(state: State) -> ExportSigner:
    """Signs GDPR exports with the key pair derived from the audit key."""
    signer: ExportSigner = state.export_signer
    return signer


DEPENDENCIES = {
    **PRINCIPAL_DEPENDENCY,
    "commands": Provide(provide_commands, sync_to_thread=False),
    # Not "attendees": Litestar reports a body error on a field named like a dependency as a 500.
    "attendee_processing": Provide(provide_attendees, sync_to_thread=False),
    "commerce": Provide(provide_commerce, sync_to_thread=False),
    "privacy": Provide(provide_privacy, sync_to_thread=False),
    "merges": Provide(provide_merges, sync_to_thread=False),
    "loyalty": Provide(provide_loyalty, sync_to_thread=False),
    "engagement": Provide(provide_engagement, sync_to_thread=False),
    "engagement_reads": Provide(provide_engagement_reads, sync_to_thread=False),
    "queries": Provide(provide_queries, sync_to_thread=False),
    "records": Provide(provide_records, sync_to_thread=False),
    "alerts": Provide(provide_alerts, sync_to_thread=False),
    "export": Provide(provide_export, sync_to_thread=False),
    "imports": Provide(provide_imports, sync_to_thread=False),
    "duplicates": Provide(provide_duplicates, sync_to_thread=False),
    "live_projections": Provide(provide_projections, sync_to_thread=False),
    "segment_commands": Provide(provide_segments, sync_to_thread=False),
    "segment_members": Provide(provide_segment_members, sync_to_thread=False),
    "settings": Provide(provide_settings, sync_to_thread=False),
    "export_signer": Provide(provide_export_signer, sync_to_thread=False),
}
