"""moderator: a terminal-first comment moderation desk (German first, article-aware)."""

__version__ = "0.1.0"
