"""The lab: executable theory. Each claim of the GAN story is a function that computes its
numbers, prints them and draws a figure.

    gankit lab --list               one line per experiment
    gankit lab optimal-d            run one; writes lab/optimal-d.png and lab/optimal-d.json

    import gankit.lab
    result = gankit.lab.optimal_d(out_dir="lab")
    result.numbers["max_error"], result.figure
"""

from gankit.lab.base import EXPERIMENTS, LabError, LabResult, run_experiment
from gankit.lab.bend_noise import bend_noise
from gankit.lab.bilinear import bilinear_game
from gankit.lab.cycle_vs_not import cycle_vs_not
from gankit.lab.d_memorises import d_memorises
from gankit.lab.js_vs_w import js_vs_w
from gankit.lab.l1_vs_gan import l1_vs_gan
from gankit.lab.mode_collapse import mode_collapse
from gankit.lab.optimal_d import optimal_d
from gankit.lab.saturation import saturation
from gankit.lab.wgan_curve import wgan_curve
from gankit.lab.why_generate import why_generate

__all__ = [
    "EXPERIMENTS",
    "LabError",
    "LabResult",
    "bend_noise",
    "bilinear_game",
    "cycle_vs_not",
    "d_memorises",
    "js_vs_w",
    "l1_vs_gan",
    "mode_collapse",
    "optimal_d",
    "run_experiment",
    "saturation",
    "wgan_curve",
    "why_generate",
]
