"""Case-record exports: tidy CSV for R, JSON, REDCap, SDTM, DICOM SEG, with de-identification.

:func:`tace_planner.services.export.runner.export_cases` is the one entry point the command
line and the GUI call; each format lives in its own module and writes only inside the
output folder it is given.
"""
