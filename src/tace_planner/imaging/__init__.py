"""Images: DICOM reading and writing, volume assembly, segmentation algorithms (no Qt, no SQL)."""
