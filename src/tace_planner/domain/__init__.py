"""Pure clinical computations: no Qt, no database, no DICOM library."""
