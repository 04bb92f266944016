"""refsette: reference libraries as one normalised SQLite database, served by Datasette."""

__version__ = "0.1.0"
