"""DICOM input and output: header scans, series assembly, SEG, de-identification."""
