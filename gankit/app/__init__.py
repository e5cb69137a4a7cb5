"""The web apps: ``gankit dashboard`` (:mod:`gankit.app.dashboard`) and ``gankit playground``
(:mod:`gankit.app.playground`). Only the CLI imports them."""
