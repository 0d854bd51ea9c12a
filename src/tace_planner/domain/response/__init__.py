"""Tumour response criteria: RECIST 1.1, mRECIST, EASL, Choi, volumetric, growth rates.

Pure functions (no Qt, no database). Each engine returns a :class:`Response`: the
category, an explanation of its inputs, thresholds and the rule that decided, and
the tumour type the criterion was validated for. Thresholds come from
``resources/parameters/response.json`` (:class:`ResponseParameters`).
"""

from tace_planner.domain.response.base import Response
from tace_planner.domain.response.parameters import DEFAULT_RESPONSE, ResponseParameters

__all__ = ["DEFAULT_RESPONSE", "Response", "ResponseParameters"]
