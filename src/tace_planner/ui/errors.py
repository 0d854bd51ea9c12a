"""The one place that turns exceptions into messages for the user."""

from __future__ import annotations

import logging

from PySide6.QtWidgets import QMessageBox, QWidget

from tace_planner.domain.errors import TacePlannerError

log = logging.getLogger(__name__)


def message_for(error: BaseException) -> str:
    """The sentence shown to the user for ``error``."""
    if isinstance(error, TacePlannerError):
        return str(error)
    return (
        f"An unexpected error occurred ({type(error).__name__}: {error}). "
        "Nothing saved was lost; the details are in the log."
    )


def show_error(parent: QWidget | None, title: str, error: BaseException) -> None:
    """Log ``error`` and show it in a message box; the app keeps running."""
    if isinstance(error, TacePlannerError):
        log.warning("%s: %s", title, error)
    else:
        log.error("%s", title, exc_info=error)
    QMessageBox.warning(parent, title, message_for(error))
