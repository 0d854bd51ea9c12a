"""Typed errors raised by the core; each message names the file or field at fault."""

from __future__ import annotations


class TacePlannerError(Exception):
    """Base class of every error the app expects and explains to the user."""


class InvalidInputError(TacePlannerError, ValueError):
    """A value entered by a user or read from a file is impossible or implausible.

    Parameters
    ----------
    field : str
        The name of the field or DICOM attribute at fault, shown to the user.
    message : str
        What is wrong with it, in one sentence.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = message


class EmptyColumnError(InvalidInputError):
    """A column that is needed (e.g. the grouping of a cohort table) has no value in any row.

    ``partial``: what was read before the grouping failed, so that the caller need not read
    it again; None when nothing was. For the registry's cohort it is the cohort read
    (``services.export.cohort_plots.RegistryCohort``): its ``waterfall`` holds the bars, which
    need no grouping, and its ``plots(group)`` groups it another way (or keeps it whole).
    """

    def __init__(self, field: str, message: str, partial: object = None) -> None:
        super().__init__(field, message)
        self.partial = partial


class DicomReadError(TacePlannerError):
    """A DICOM file could not be read; the message names the file and the reason.

    Parameters
    ----------
    path : str
        The file that failed.
    reason : str
        Why, in one sentence.
    """

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class UnsupportedSeriesError(TacePlannerError):
    """A series cannot be assembled into a volume (too few slices, mixed geometry)."""


class StoreError(TacePlannerError):
    """The database could not be opened, upgraded or written."""


class ConcurrentEditError(StoreError):
    """Another workstation changed the same record since it was read."""


class NotFoundError(TacePlannerError):
    """A patient, case, study or series asked for does not exist."""
