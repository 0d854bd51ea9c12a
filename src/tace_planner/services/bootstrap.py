"""Build the services of one running app from its settings (used by the GUI, CLI and tests)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tace_planner.services.annotations import AnnotationService
from tace_planner.services.cases import CaseService
from tace_planner.services.contouring import ContouringService
from tace_planner.services.image_store import ImageStore, ImportLock
from tace_planner.services.planning import PlanningService
from tace_planner.services.protocol import ProtocolService
from tace_planner.services.settings import AppSettings
from tace_planner.services.studies import StudyService
from tace_planner.services.volume_cache import VolumeCache, VolumeLoader, budget_from_env
from tace_planner.store.db import make_engine, make_session_factory
from tace_planner.store.upgrade import UpgradeResult, upgrade_to_head

START_UP_LOCK_NAME = ".start-up.lock"


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
    contouring: ContouringService | None = None

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
        The database cannot be opened or is newer than this app.
    """
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database_url)
    # Two apps started at once on a new data folder would both migrate it; one waits.
    start_up = ImportLock(settings.data_dir / START_UP_LOCK_NAME)
    start_up.acquire()
    try:
        upgrade = upgrade_to_head(engine)
    finally:
        start_up.release()
    sessions = make_session_factory(engine)
    image_store = ImageStore(settings.image_store_dir)
    protocol = ProtocolService(sessions, settings.user, stored_path=image_store.absolute)
    studies = StudyService(sessions, image_store, settings.user)
    budget = budget_from_env() if volume_cache_bytes is None else volume_cache_bytes
    volumes = VolumeLoader(studies.series_files, VolumeCache(budget))
    return Services(
        settings=settings,
        engine=engine,
        session_factory=sessions,
        upgrade=upgrade,
        studies=studies,
        cases=CaseService(sessions, settings.user),
        protocol=protocol,
        annotations=AnnotationService(sessions, settings.user),
        planning=PlanningService(
            sessions,
            settings.user,
            protocol=protocol,
            parameters_dir=settings.data_dir / "parameters",
        ),
        volumes=volumes,
        contouring=ContouringService(sessions, studies, settings.user, volumes=volumes),
    )
