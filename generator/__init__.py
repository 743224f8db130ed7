"""newsgen: a static news-site generator (seeds -> content -> public)."""

__version__ = "0.1.0"
