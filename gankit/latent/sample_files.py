"""Samples written as one PNG file each: ``gankit sample RUN -n 10000 -o folder/``.

Sample i (0 … n − 1, in the order of :meth:`gankit.api.Run.sample_batches`, so the z of
``gankit sample`` with the same seed) is ``i.png`` zero-padded to :data:`NAME_DIGITS` digits
(``000042.png``; more digits from n > 10⁶ on), so names sort in sample order and the same
seed writes the same names whatever n. A conditional run puts each file in a sub-folder of its
class, named by the run's class names (a folder data set's sub-folder names, "0" to "9" for
the digit sets; the class index zero-padded to the digits of K − 1 where the checkpoint
keeps no names), such as ``3/000042.png``, so the folder reads back as the same labelled data
set: gankit's ``folder`` source takes first-level sub-folders as classes, in name order.

Pixels are those of the sample grids (:func:`gankit.viz.image_grid`): clamp(round((x + 1)
· 127.5), 0, 255), NaN → 0; one channel is written as a grey PNG ("L"), three as RGB. As
with ``gankit translate``, existing files are never replaced unless ``overwrite``: every
name is checked before the first sample is drawn, and each file appears atomically. Memory
holds one batch of samples at a time.
"""

from __future__ import annotations

import os
from pathlib import Path

from tqdm.auto import tqdm

from gankit.api import Run
from gankit.errors import GankitError
from gankit.files import OutputError
from gankit.latent.kinds import image_shape
from gankit.viz import image_grid, save_picture

NAME_DIGITS = 6
_SHOWN = 5  # names listed in an error, then "and N more"


def sample_file_names(run: Run, n: int, label: int | str | None = None) -> list[str]:
    """The relative file name of each of ``n`` samples (see the module's docstring)."""
    width = max(NAME_DIGITS, len(str(n - 1)))
    if not run.classes:
        run.labels_for(1, label)  # refuses a label
        return [f"{i:0{width}d}.png" for i in range(n)]
    labels = run.labels_for(n, label).tolist()
    folders = run.class_names or [f"{y:0{len(str(run.classes - 1))}d}" for y in range(run.classes)]
    return [f"{folders[y]}/{i:0{width}d}.png" for i, y in enumerate(labels)]


def save_sample_files(
    run: Run,
    folder: str | Path,
    n: int,
    seed: int = 0,
    label: int | str | None = None,
    truncation: float | None = None,
    *,
    overwrite: bool = False,
    progress: bool = False,
    batch_size: int | None = None,
) -> list[Path]:
    """Write ``n`` samples of an image run into ``folder``, one PNG each (names and pixels
    as the module's docstring says); returns the files written. Refused before anything is
    drawn: a run of points, a ``folder`` that is a file, and, unless ``overwrite``, any of
    the files that already exists. ``progress`` shows a bar over the samples."""
    folder = Path(folder).expanduser()
    image_shape(
        run, "a folder of PNG files needs an image run; write the samples to a .npy file instead"
    )
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{folder} is a file; name a folder (ending in /) for one PNG a sample")
    batches = run.sample_batches(n, seed, label, batch_size, truncation)  # checks arguments
    _check_room(folder, n)
    targets = [folder / name for name in sample_file_names(run, n, label)]
    existing = [] if overwrite else [t for t in targets if t.exists() or t.is_symlink()]
    if existing:
        shown = ", ".join(str(t.relative_to(folder)) for t in existing[:_SHOWN])
        more = f" and {len(existing) - _SHOWN} more" if len(existing) > _SHOWN else ""
        raise OutputError(
            f"{len(existing)} of the {n} sample files already exist in {folder} ({shown}{more}); "
            "nothing was written: pass --overwrite to replace them, or choose another folder"
        )
    written: list[Path] = []
    with tqdm(total=n, unit="sample", desc="writing samples", disable=not progress) as bar:
        try:
            for batch in batches:
                height = batch.shape[2]
                stacked = image_grid(batch, nrow=1, padding=0)  # (B·H, W, C), one per band
                for k in range(len(batch)):
                    pixels = stacked[k * height : (k + 1) * height]
                    written.append(save_picture(pixels, targets[len(written)], overwrite))
                bar.update(len(batch))
        except GankitError as err:
            if not written:
                raise
            raise type(err)(
                f"{err} ({len(written)} of {n} files were written before this)"
            ) from None
    return written


def _check_room(folder: Path, n: int) -> None:
    """Refuse ``n`` files where the file system has fewer free file entries (inodes) left,
    before a name is made; a file system that does not count them (0) is not checked."""
    statvfs = getattr(os, "statvfs", None)
    existing = next(p for p in (folder, *folder.parents) if p.exists())
    free = statvfs(existing).f_favail if statvfs is not None else 0
    if 0 < free < n:
        raise OutputError(
            f"cannot write {n:,} files into {folder}: its file system has room for {free:,} more"
        )
