"""Overrides that make the ring-2d preset train in milliseconds per step."""

TINY_RING = {
    "generator.width": 16,
    "discriminator.width": 16,
    "train.batch_size": 32,
    "log.every": 5,
    "samples.every": 0,
    "log.tensorboard": False,
    "device": "cpu",
}
