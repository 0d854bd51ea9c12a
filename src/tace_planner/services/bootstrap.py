"""Build the services of one running app from its settings (used by the GUI, CLI and tests)."""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from tace_planner.domain.errors import InvalidInputError, StoreError
from tace_planner.services.annotations import AnnotationService
from tace_planner.services.assessment import AssessmentService
from tace_planner.services.cases import CaseService
from tace_planner.services.contouring import ContouringService
from tace_planner.services.focus_overlap import header_grids
from tace_planner.services.followups import FollowupService
from tace_planner.services.image_store import ImageStore, ImportLock, disk_full
from tace_planner.services.planning import PlanningService
from tace_planner.services.procedures import ProcedureService
from tace_planner.services.propagation import PropagationService
from tace_planner.services.protocol import ProtocolService
from tace_planner.services.recist_parameters import load_recist_parameters
from tace_planner.services.settings import AppSettings
from tace_planner.services.studies import StudyService
from tace_planner.services.study_reassign import StudyReassignService
from tace_planner.services.therapy_lines import TherapyService
from tace_planner.services.volume_cache import (
    ENV_BUDGET_MB,
    VolumeCache,
    VolumeLoader,
    budget_from_env,
)
from tace_planner.store.db import (
    describe_database_error,
    make_engine,
    make_session_factory,
    sqlite_read_only_url_for,
    sqlite_url_for,
)
from tace_planner.store.upgrade import (
    UpgradeResult,
    current_revision,
    head_revision,
    upgrade_to_head,
)

START_UP_LOCK_NAME = ".start-up.lock"
log = logging.getLogger(__name__)


@dataclass
class Services:
    """Everything a front end needs: settings, use cases, and what start-up did."""

    settings: AppSettings
    engine: Engine
    session_factory: sessionmaker[Session]
    upgrade: UpgradeResult
    studies: StudyService
    cases: CaseService
    protocol: ProtocolService
    annotations: AnnotationService
    planning: PlanningService
    volumes: VolumeLoader
    contouring: ContouringService
    procedures: ProcedureService
    followups: FollowupService
    therapy: TherapyService
    read_only: bool = False
    """The data folder cannot be written: the database was opened read-only."""

    @property
    def propagation(self) -> PropagationService:
        """Follow-up contours proposed from the baseline (issue 15; light, built on use)."""
        return PropagationService(self.session_factory, self.contouring)

    @property
    def assessments(self) -> AssessmentService:
        """Response assessment of follow-ups, stored (issue 15; light, built on use)."""
        from tace_planner.services.response_parameters import load_response_parameters

        return AssessmentService(
            self.contouring,
            self.followups,
            load_response_parameters(self.settings.data_dir / "parameters"),
            sessions=self.session_factory,
            user=self.settings.user,
        )

    @property
    def study_reassign(self) -> StudyReassignService:
        """Hands a study imported without a Patient ID to its patient (light, built on use)."""
        return StudyReassignService(self.session_factory, self.settings.user)

    def close(self) -> None:
        """Release database connections."""
        self.engine.dispose()


def open_services(settings: AppSettings, *, volume_cache_bytes: int | None = None) -> Services:
    """Open (and if needed create or upgrade) the database, then build the services.

    Parameters
    ----------
    settings : AppSettings
        Where the data lives and who works.
    volume_cache_bytes : int, optional
        Memory budget of recently opened volumes; by default
        ``TACE_PLANNER_VOLUME_CACHE_MB`` or 2 GiB.

    Raises
    ------
    StoreError
        The data folder or the database cannot be opened (the message says why in
        one line: a file in the way, a full disk, an unknown database kind or a
        missing driver), or the database is newer than this app.
    InvalidInputError
        ``TACE_PLANNER_VOLUME_CACHE_MB`` is not a number of MiB.

    Notes
    -----
    A data folder that cannot be written (a read-only disk or share) is opened
    read-only: ``Services.read_only`` is True and every change is refused.
    """
    budget = _volume_budget() if volume_cache_bytes is None else volume_cache_bytes
    _make_data_folder(settings.data_dir)
    read_only = settings.db_url is None and not _writable(settings.data_dir)
    if read_only:
        engine, upgrade = _open_read_only(settings)
    else:
        engine = _engine(settings)
        # Two apps started at once on a new data folder would both migrate it; one waits.
        start_up = ImportLock(settings.data_dir / START_UP_LOCK_NAME)
        try:
            start_up.acquire()
            upgrade = upgrade_to_head(engine)
        except OSError as error:
            engine.dispose()
            raise StoreError(_folder_problem(settings.data_dir, error)) from None
        except StoreError as error:
            engine.dispose()
            raise _said_plainly(error, settings) from None
        finally:
            start_up.release()
    sessions = make_session_factory(engine)
    image_store = ImageStore(settings.image_store_dir)
    protocol = ProtocolService(sessions, settings.user, stored_path=image_store.absolute)
    studies = StudyService(sessions, image_store, settings.user)
    volumes = VolumeLoader(studies.series_files, VolumeCache(budget))
    grids = header_grids(studies.series_files)  # foci on two phases of one study
    followups = FollowupService(
        sessions, settings.user, parameters_dir=settings.data_dir / "parameters"
    )
    planning = PlanningService(
        sessions,
        settings.user,
        protocol=protocol,
        parameters_dir=settings.data_dir / "parameters",
        grids=grids,
    )
    return Services(
        read_only=read_only,
        settings=settings,
        engine=engine,
        session_factory=sessions,
        upgrade=upgrade,
        studies=studies,
        cases=CaseService(sessions, settings.user),
        protocol=protocol,
        annotations=AnnotationService(sessions, settings.user),
        planning=planning,
        volumes=volumes,
        contouring=ContouringService(
            sessions,
            studies,
            settings.user,
            volumes=volumes,
            recist=load_recist_parameters(settings.data_dir / "parameters"),
            grids=grids,
        ),
        # the form offers the products planning offers (the institution's catalogue)
        procedures=ProcedureService(sessions, settings.user, catalogue=lambda: planning.catalogue),
        followups=followups,
        therapy=TherapyService(sessions, settings.user, lambda: followups.parameters),
    )


def _volume_budget() -> int:
    try:
        return budget_from_env()
    except ValueError:
        text = os.environ.get(ENV_BUDGET_MB, "")
        raise InvalidInputError(
            ENV_BUDGET_MB, f"give a number of MiB, 0 or more (it is {text!r})"
        ) from None


def _folder_problem(folder: Path, error: OSError) -> str:
    """One line on why the data folder cannot be used."""
    if isinstance(error, NotADirectoryError) or (folder.exists() and not folder.is_dir()):
        blocker = next((p for p in [folder, *folder.parents] if p.exists()), folder)
        return f"data folder {folder}: {blocker} is a file, not a folder (choose --data-dir DIR)"
    if disk_full(error):
        return f"data folder {folder}: the disk is full; free some space and try again"
    return f"data folder {folder}: cannot be used ({error.strerror or error})"


def _make_data_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StoreError(_folder_problem(folder, error)) from None
    if not folder.is_dir():
        raise StoreError(_folder_problem(folder, NotADirectoryError(folder)))


def _writable(folder: Path) -> bool:
    """True when a file can be created in ``folder`` (checked by trying, not by permissions)."""
    try:
        with tempfile.TemporaryFile(dir=folder, prefix=".write-check-"):
            return True
    except OSError as error:
        if disk_full(error):
            raise StoreError(_folder_problem(folder, error)) from None
        return False


def _engine(settings: AppSettings, url: str | None = None) -> Engine:
    """The engine of the settings' database, with one-line messages for a bad URL or driver."""
    chosen = url or settings.db_url or sqlite_url_for(settings.database_file)
    shown = settings.describe_database()
    try:
        return make_engine(chosen)
    except NoSuchModuleError:
        scheme = chosen.split("://", 1)[0]
        raise StoreError(
            f"database URL {shown}: {scheme!r} is not a database this app can use; "
            "give sqlite:///FILE or postgresql+psycopg://USER@HOST/DATABASE"
        ) from None
    except ImportError as error:
        module = getattr(error, "name", None) or str(error)
        hint = ' (pip install "psycopg[binary]")' if "psycopg" in chosen else ""
        raise StoreError(
            f"database URL {shown}: its driver {module!r} is not installed{hint}"
        ) from None
    except (ArgumentError, ValueError) as error:
        raise StoreError(f"database URL {shown}: not a valid URL ({error})") from None
    except OSError as error:
        raise StoreError(_folder_problem(settings.data_dir, error)) from None


def _said_plainly(error: StoreError, settings: AppSettings) -> StoreError:
    """The start-up error, with a full disk said as such (SQLite says "disk I/O error")."""
    text = str(error)
    if settings.db_url is None and "disk i/o error" in text.lower():
        plain = describe_database_error(error, settings.data_dir)
        if "full" in plain:
            return StoreError(plain)
    return error


def _open_read_only(settings: AppSettings) -> tuple[Engine, UpgradeResult]:
    """Open the data folder's database read-only; refuse when it is missing or needs an upgrade."""
    path = settings.database_file
    if not path.is_file():
        raise StoreError(
            f"data folder {settings.data_dir} is read-only and holds no database yet; "
            "choose a folder you can write (--data-dir DIR)"
        )
    for immutable in (False, True):
        engine = _engine(settings, sqlite_read_only_url_for(path, immutable=immutable))
        try:
            revision = current_revision(engine)
            break
        except SQLAlchemyError as error:
            engine.dispose()
            if immutable:
                raise StoreError(
                    f"data folder {settings.data_dir} is read-only and its database cannot be "
                    f"opened ({describe_database_error(error)})"
                ) from None
    head = head_revision()
    if revision != head:
        engine.dispose()
        raise StoreError(
            f"data folder {settings.data_dir} is read-only, and its database (revision "
            f"{revision}) needs an upgrade to {head}; open it once from a writable folder"
        )
    log.info("data folder %s is read-only: the database was opened read-only", settings.data_dir)
    return engine, UpgradeResult(from_revision=revision, to_revision=head, backup_path=None)
