"""TACE Planner: plan and follow chemoembolization of liver metastases."""

__version__ = "0.1.0"
