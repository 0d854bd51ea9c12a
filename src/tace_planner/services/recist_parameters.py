"""Read the RECIST parameter file (``resources/parameters/recist.json``, or a local copy)."""

from __future__ import annotations

import importlib.resources
import json
from pathlib import Path

from tace_planner.domain.errors import InvalidInputError
from tace_planner.domain.recist import RecistParameters

RECIST_FILE = "recist.json"


def load_recist_parameters(folder: Path | None = None) -> RecistParameters:
    """The RECIST parameters: ``folder/recist.json`` when it exists, else the shipped file.

    Raises
    ------
    InvalidInputError
        The file is not valid JSON or not a valid parameter file (the message
        names the file and the field).
    """
    if folder is not None and (Path(folder) / RECIST_FILE).is_file():
        path = Path(folder) / RECIST_FILE
        text, origin = path.read_text(encoding="utf-8"), str(path)
    else:
        resource = importlib.resources.files("tace_planner.resources") / "parameters" / RECIST_FILE
        text, origin = resource.read_text(encoding="utf-8"), RECIST_FILE
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidInputError(origin, f"is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise InvalidInputError(origin, "must hold a JSON object")
    return RecistParameters.from_dict(data, origin=origin)
