"""Write tests/metrics/data/inception_reference.safetensors: features of a few images computed
by pytorch-fid's FID Inception-v3 loaded with gankit's synthetic (meaningless, deterministic)
weights, so that the test suite checks gankit's own network against the reference
implementation without shipping or downloading the real weights.

Run in an environment that has pytorch-fid and torchvision besides gankit's dependencies:

    pip install pytorch-fid torchvision
    PYTHONPATH=. python scripts/make_inception_reference.py
"""

from __future__ import annotations

from pathlib import Path

import torch
from pytorch_fid import inception as pytorch_fid_inception
from safetensors.torch import save_file

from gankit.metrics.inception import synthetic_weights

OUT = Path(__file__).resolve().parents[1] / "tests/metrics/data/inception_reference.safetensors"
SEED = 0


def main() -> None:
    state = synthetic_weights(SEED)
    # pytorch-fid fetches its weights through this function; hand it the synthetic ones.
    pytorch_fid_inception.load_state_dict_from_url = lambda *args, **kwargs: state
    network = pytorch_fid_inception.InceptionV3([3], resize_input=True, normalize_input=True)
    network.eval()
    generator = torch.Generator().manual_seed(SEED)
    grey = torch.randint(0, 256, (2, 1, 28, 28), generator=generator, dtype=torch.uint8)
    colour = torch.randint(0, 256, (2, 3, 32, 32), generator=generator, dtype=torch.uint8)
    with torch.no_grad():
        grey_features = network(grey.expand(-1, 3, -1, -1).float() / 255)[0].flatten(1)
        colour_features = network(colour.float() / 255)[0].flatten(1)
    save_file(
        {
            "grey": grey,
            "grey_features": grey_features.contiguous(),
            "colour": colour,
            "colour_features": colour_features.contiguous(),
        },
        str(OUT),
        metadata={"seed": str(SEED), "reference": f"pytorch-fid {pytorch_fid_inception.__name__}"},
    )
    print(f"wrote {OUT}: features of {len(grey)} grey and {len(colour)} colour images")


if __name__ == "__main__":
    main()
