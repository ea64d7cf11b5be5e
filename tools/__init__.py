"""Tools that build the project's data files."""
