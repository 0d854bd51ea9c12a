"""Versioned clinical parameter files, icons and style sheets shipped with the app."""
