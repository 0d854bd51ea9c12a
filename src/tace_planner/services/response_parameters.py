"""Read the response parameter file (``resources/parameters/response.json``, or a local copy)."""

from __future__ import annotations

import importlib.resources
import json
from pathlib import Path

from tace_planner.domain.errors import InvalidInputError
from tace_planner.domain.response.parameters import ResponseParameters

RESPONSE_FILE = "response.json"


def load_response_parameters(folder: Path | None = None) -> ResponseParameters:
    """The response thresholds: ``folder/response.json`` when it exists, else the shipped file.

    Raises
    ------
    InvalidInputError
        Not valid JSON or not a valid parameter file (names the file and the field).
    """
    if folder is not None and (Path(folder) / RESPONSE_FILE).is_file():
        path = Path(folder) / RESPONSE_FILE
        text, origin = path.read_text(encoding="utf-8"), str(path)
    else:
        resource = (
            importlib.resources.files("tace_planner.resources") / "parameters" / RESPONSE_FILE
        )
        text, origin = resource.read_text(encoding="utf-8"), RESPONSE_FILE
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidInputError(origin, f"is not valid JSON: {error}") from None
    return ResponseParameters.from_dict(data, origin=origin)
