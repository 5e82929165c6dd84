"""Screens of the moderator's desk: the desk itself, its dialogs and the help screen."""
