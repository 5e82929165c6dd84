"""`moderator serve`: live intake over HTTP, a third face over the same core as the CLI and the desk.

A Perspective-compatible API (``comments:analyze``, ``comments:suggestscore``, its discovery document), Coral
Talk's External Moderation Phase, and article registration, all writing the same SQLite queue the desk reads.
Nothing in the core imports this package; the CLI builds the app (`moderator.serve.app.make_app`) and runs it.
"""
