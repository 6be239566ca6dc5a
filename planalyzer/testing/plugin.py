"""pytest plugin entry point (``pytest11``): hooks and fixtures only."""
