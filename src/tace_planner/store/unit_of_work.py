"""UnitOfWork: one transaction per user action, audited, rolled back unless committed."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import TracebackType
from typing import Any, Self

from sqlalchemy import inspect
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from tace_planner.domain.errors import ConcurrentEditError, StoreError
from tace_planner.store.audit import json_safe, row_snapshot
from tace_planner.store.models import AuditEventRow, Base

CONCURRENT_EDIT_MESSAGE = "this record was changed on another workstation — reload and try again"


@contextmanager
def _concurrent_edits_reported() -> Iterator[None]:
    """Turn a failed optimistic version check into :class:`ConcurrentEditError`."""
    try:
        yield
    except StaleDataError as exc:
        raise ConcurrentEditError(CONCURRENT_EDIT_MESSAGE) from exc


class UnitOfWork:
    """A session and its transaction for one user action, with its audit trail.

    Parameters
    ----------
    session_factory : sqlalchemy.orm.sessionmaker
        From :func:`tace_planner.store.db.make_session_factory`.
    user : str
        Who acts; written into every audit event.

    Examples
    --------
    >>> with UnitOfWork(session_factory, user="dr x") as uow:  # doctest: +SKIP
    ...     before = row_snapshot(case)
    ...     case.title = "Liver metastases, NET G2"
    ...     uow.audit(action="rename", entity="case", entity_pk=case, before=before, after=case)
    ...     uow.commit()

    Notes
    -----
    Leaving the block without :meth:`commit` rolls everything back, including the
    audit events. Rows stay readable after the block (they are detached, not expired),
    so a service can turn them into read models. A
    :class:`sqlalchemy.orm.exc.StaleDataError` (another workstation saved a newer
    version of a row first) surfaces as :class:`ConcurrentEditError`, whether it
    happens at commit, at a flush, or inside the block.
    """

    def __init__(self, session_factory: sessionmaker[Session], *, user: str) -> None:
        self._session_factory = session_factory
        self.user = user
        self._session: Session | None = None

    @property
    def session(self) -> Session:
        """The open session; only inside the ``with`` block."""
        if self._session is None:
            raise StoreError("the unit of work is not open; use it in a with block")
        return self._session

    def __enter__(self) -> Self:
        if self._session is not None:
            raise StoreError("a unit of work cannot be entered twice")
        self._session = self._session_factory()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        session, self._session = self.session, None
        # close() rolls back whatever was not committed and detaches the rows without
        # expiring them, so rows read or committed here stay readable after the block.
        session.close()
        if isinstance(exc, StaleDataError):
            raise ConcurrentEditError(CONCURRENT_EDIT_MESSAGE) from exc

    def flush(self) -> None:
        """Send pending changes to the database without committing (assigns ids).

        Raises
        ------
        ConcurrentEditError
            If a row being updated was changed by another workstation.
        """
        with _concurrent_edits_reported():
            self.session.flush()

    def commit(self) -> None:
        """Commit the transaction.

        Raises
        ------
        ConcurrentEditError
            If a row being updated was changed by another workstation; nothing is saved.
        """
        with _concurrent_edits_reported():
            self.session.commit()

    def rollback(self) -> None:
        """Discard everything since the last commit."""
        self.session.rollback()

    def audit(
        self,
        *,
        action: str,
        entity: str | None = None,
        entity_pk: int | Base | None = None,
        before: Mapping[str, Any] | Base | None = None,
        after: Mapping[str, Any] | Base | None = None,
        summary: str = "",
    ) -> AuditEventRow:
        """Record who changed what, in the same transaction as the change.

        Parameters
        ----------
        action : str
            What was done, e.g. ``"create"``, ``"update"``, ``"override_target"``.
        entity : str, optional
            Kind of record; defaults to the table name of ``entity_pk`` when it is a row.
        entity_pk : int or row, optional
            The record's id, or the row itself (the session is flushed first so that a
            new row has its id).
        before, after : mapping or row, optional
            Values before and after the change. A row is snapshotted with
            :func:`~tace_planner.store.audit.row_snapshot` after the flush, so pass a
            snapshot dict (taken before the change) for ``before``. Mappings are made
            JSON-safe.
        summary : str, optional
            One sentence for the audit list.

        Returns
        -------
        AuditEventRow
            The pending event (added to the session).

        Raises
        ------
        ConcurrentEditError
            If the flush finds that a row was changed by another workstation.
        StoreError
            If no entity name is given or derivable.
        """
        self.flush()
        if isinstance(entity_pk, Base):
            entity = entity or type(entity_pk).__tablename__
            entity_pk = _single_pk(entity_pk)
        if not entity:
            raise StoreError(f"audit event {action!r}: the entity name is missing")
        event = AuditEventRow(
            user=self.user,
            action=action,
            entity=entity,
            entity_pk=entity_pk,
            before=_snapshot(before),
            after=_snapshot(after),
            summary=summary,
        )
        self.session.add(event)
        return event


def _single_pk(row: Base) -> int:
    identity = inspect(row).identity
    if identity is None or len(identity) != 1:
        raise StoreError(f"{type(row).__name__} has no single-column id to audit")
    return int(identity[0])


def _snapshot(value: Mapping[str, Any] | Base | None) -> dict[str, Any] | None:
    if value is None:
        return None
    if isinstance(value, Base):
        return row_snapshot(value)
    return json_safe(dict(value))
