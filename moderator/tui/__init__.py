"""The moderator's desk: a Textual TUI over the same `Queue` the CLI uses (imported lazily by `moderator review`)."""
