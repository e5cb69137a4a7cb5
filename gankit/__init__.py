"""gankit: train, measure and understand generative adversarial networks.

import gankit
run = gankit.train("ring-2d", {"train.steps": 2000})
samples = run.sample(512)
"""

__version__ = "0.1.0"

from gankit.api import Run, load, resume, train  # noqa: E402
from gankit.config import Config, ConfigError, list_presets, resolve  # noqa: E402
from gankit.errors import GankitError  # noqa: E402
from gankit.train.callbacks import Callback  # noqa: E402
from gankit.train.trainer import Trainer, TrainingDiverged  # noqa: E402

__all__ = [
    "Callback",
    "Config",
    "ConfigError",
    "GankitError",
    "Run",
    "Trainer",
    "TrainingDiverged",
    "list_presets",
    "load",
    "resolve",
    "resume",
    "train",
]
