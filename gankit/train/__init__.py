"""Training: the Algorithm-1 loop, its callbacks, checkpoints and run directories."""
