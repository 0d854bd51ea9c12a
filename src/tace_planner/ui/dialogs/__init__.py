"""Modal dialogs; each has a classmethod ``ask`` that tests replace."""
