"""Tools for the latent space of a trained run, built on :class:`gankit.api.Run`: paths
between latent vectors (``interpolate``), nearest training neighbours of samples
(``neighbours``), GAN inversion (``project``), the sampler as an ONNX or ``torch.export``
file (``export``) and samples as one PNG file each (``sample_files``)."""
