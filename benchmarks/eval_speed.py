"""Speed of evaluation on the CPU: feature extraction and each metric at 5,000 vs 5,000.

Features come from the shipped MNIST-5k digit classifier (128-d) on the 5,000 embedded
digits; the "generated" set is the same digits shifted by one pixel, so that the metrics
have work to do. Prints images/s for feature extraction and seconds per metric, the median
of ``--repeats`` runs. ``--inception`` adds the standard FID's Inception-v3 (299×299 inputs,
2048-d features): its images/s, measured with synthetic weights (the speed does not depend on
their values), and the seconds of one FID at 5,000 vs 5,000 2048-d features.

    python benchmarks/eval_speed.py --threads 2 --inception
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch

from gankit.metrics import (
    density_coverage,
    frechet_distance_features,
    kernel_inception_distance,
    load_digit_classifier,
    precision_recall,
)
from gankit.metrics.digits import digit_data, scale_images
from gankit.metrics.inception import FEATURE_DIM, FIDInceptionV3, prepare_images, synthetic_weights


def median_seconds(work: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, help="torch.set_num_threads")
    parser.add_argument("--inception", action="store_true", help="also time Inception-v3 FID")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    classifier = load_digit_classifier("mnist5k")
    images = scale_images(digit_data("mnist5k")[0])  # (5000, 1, 28, 28)
    shifted = torch.roll(images, shifts=1, dims=3)

    def extract(batch: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return torch.cat([classifier.features(b) for b in batch.split(500)])

    seconds = median_seconds(lambda: extract(images), args.repeats)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s)")
    print(f"feature extraction: {len(images) / seconds:,.0f} images/s (28×28, batch 500)")
    real, fake = extract(images), extract(shifted)
    metrics = {
        "FID": lambda: frechet_distance_features(real, fake),
        "KID (100 subsets of 1,000)": lambda: kernel_inception_distance(real, fake),
        "precision/recall (k = 3)": lambda: precision_recall(real, fake),
        "density/coverage (k = 5)": lambda: density_coverage(real, fake),
    }
    for name, work in metrics.items():
        print(f"{name}, 5,000 vs 5,000: {median_seconds(work, args.repeats):.2f} s")
    if args.inception:
        time_inception(images, args.repeats)


def time_inception(images: torch.Tensor, repeats: int) -> None:
    """Inception-v3 images/s on 100 digits, and one FID of 5,000 vs 5,000 2048-d features."""
    network = FIDInceptionV3()
    network.load_state_dict(synthetic_weights(0), strict=False)
    network.eval()
    batch = images[:100]

    def extract() -> torch.Tensor:
        with torch.no_grad():
            return torch.cat([network.features(prepare_images(b)) for b in batch.split(50)])

    seconds = median_seconds(extract, repeats)
    print(f"Inception-v3 features: {len(batch) / seconds:,.1f} images/s (28×28 → 299×299)")
    generator = torch.Generator().manual_seed(0)
    mixing = torch.randn(FEATURE_DIM, FEATURE_DIM, generator=generator) / FEATURE_DIM**0.5
    real = torch.randn(5000, FEATURE_DIM, generator=generator) @ mixing
    fake = torch.randn(5000, FEATURE_DIM, generator=generator) @ mixing + 0.1
    fid_seconds = median_seconds(lambda: frechet_distance_features(real, fake), repeats)
    print(f"FID, 5,000 vs 5,000 at 2048-d: {fid_seconds:.2f} s")


if __name__ == "__main__":
    main()
