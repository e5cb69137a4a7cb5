"""The web apps: ``gankit dashboard`` (:mod:`gankit.app.dashboard`). Only the CLI imports them."""
