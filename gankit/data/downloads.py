"""Public image-to-image translation data sets, downloaded only when asked for by name.

The aligned A|B sets of pix2pix (Isola et al., 2017) and the unpaired sets of CycleGAN
(Zhu et al., 2017), as their authors publish them. Nothing here runs by default: call
``download_dataset(name, root)`` and pass the folder it returns (or a sub-folder such as
``facades/train``) as the ``path`` of an ``aligned`` or ``unpaired_folders`` source.
"""

from __future__ import annotations

import http.client
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
import zlib
from pathlib import Path
from typing import IO, Literal, NamedTuple

from tqdm import tqdm

from gankit.data.base import DataError

PIX2PIX_URL = "http://efrosgans.eecs.berkeley.edu/pix2pix/datasets/{}.tar.gz"
CYCLEGAN_URL = "http://efrosgans.eecs.berkeley.edu/cyclegan/datasets/{}.zip"
TIMEOUT_S = 30
CHUNK_BYTES = 1 << 20


class PublicDataset(NamedTuple):
    """Where a public data set lives, the source that reads it, and what it holds."""

    url: str
    kind: Literal["aligned", "unpaired"]
    description: str


def _pix2pix(name: str, description: str) -> PublicDataset:
    return PublicDataset(PIX2PIX_URL.format(name), "aligned", description)


def _cyclegan(name: str, description: str) -> PublicDataset:
    return PublicDataset(CYCLEGAN_URL.format(name), "unpaired", description)


PUBLIC_DATASETS: dict[str, PublicDataset] = {
    "facades": _pix2pix("facades", "CMP building facades and their architectural label maps"),
    "cityscapes": _pix2pix("cityscapes", "Cityscapes street photos and their semantic labels"),
    "maps": _pix2pix("maps", "aerial photos | Google Maps tiles of the same places"),
    "edges2shoes": _pix2pix("edges2shoes", "edge maps | photos of shoes (about 50k pairs)"),
    "edges2handbags": _pix2pix("edges2handbags", "edge maps | photos of handbags"),
    "horse2zebra": _cyclegan("horse2zebra", "ImageNet photos of horses (A) and zebras (B)"),
    "apple2orange": _cyclegan("apple2orange", "ImageNet photos of apples (A) and oranges (B)"),
    "summer2winter_yosemite": _cyclegan(
        "summer2winter_yosemite", "Flickr photos of Yosemite in summer (A) and winter (B)"
    ),
    "monet2photo": _cyclegan("monet2photo", "Monet's paintings (A) and landscape photos (B)"),
    "vangogh2photo": _cyclegan(
        "vangogh2photo", "Van Gogh's paintings (A) and landscape photos (B)"
    ),
}


def download_dataset(name: str, root: str | Path) -> Path:
    """Download the public data set ``name`` into ``root``, extract it and return its folder.

    The archive is fetched into, and extracted within, a scratch folder under ``root`` that
    is removed afterwards, so an interrupted download leaves nothing half-made; a folder
    ``root/name`` that already exists is returned without downloading again."""
    if name not in PUBLIC_DATASETS:
        raise DataError(
            f"unknown public data set '{name}'; choose one of: {', '.join(sorted(PUBLIC_DATASETS))}"
        )
    url = PUBLIC_DATASETS[name].url
    folder = Path(root).expanduser() / name
    if folder.is_dir():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{name}-", dir=folder.parent) as scratch:
        archive = Path(scratch) / url.rsplit("/", 1)[1]
        _fetch(name, url, archive)
        extracted = Path(scratch) / "extracted"
        _extract(archive, extracted)
        if not (extracted / name).is_dir():
            raise DataError(f"{url}: the archive holds no folder '{name}'")
        (extracted / name).rename(folder)
    return folder


def _fetch(name: str, url: str, destination: Path) -> None:
    """Stream ``url`` into ``destination`` with a progress bar; a network failure → DataError."""
    try:
        with (
            urllib.request.urlopen(url, timeout=TIMEOUT_S) as response,
            destination.open("wb") as sink,
        ):
            total = int(response.headers.get("Content-Length") or 0)
            received = 0
            with tqdm(total=total or None, unit="B", unit_scale=True, desc=name) as progress:
                while chunk := response.read(CHUNK_BYTES):
                    sink.write(chunk)
                    received += len(chunk)
                    progress.update(len(chunk))
            if received < total:
                raise http.client.IncompleteRead(b"", total - received)
    except (urllib.error.URLError, http.client.HTTPException, TimeoutError, ConnectionError) as e:
        raise DataError(
            f"cannot download {name} from {url} ({_reason(e)}); are you offline? download it "
            "by hand and pass its folder as data.path"
        ) from None


def _reason(error: Exception) -> str:
    """A network error in a few words on one line."""
    if isinstance(error, urllib.error.HTTPError):
        reason = f"HTTP {error.code} {error.reason}"
    elif isinstance(error, urllib.error.URLError):
        reason = str(error.reason)
    else:
        reason = str(error) or type(error).__name__
    return " ".join(reason.split())


def _extract(archive: Path, into: Path) -> None:
    """Extract a .zip or .tar.gz archive into ``into``, refusing links and any member whose
    path would land outside ``into``."""
    try:
        if archive.suffix == ".zip":
            with zipfile.ZipFile(archive) as zipped:
                for info in zipped.infolist():
                    target = _target(archive, into, info.filename)
                    if info.is_dir():
                        target.mkdir(parents=True, exist_ok=True)
                    else:
                        with zipped.open(info) as member:
                            _copy(member, target)
        else:
            with tarfile.open(archive, "r:gz") as tar:
                for info in tar:
                    target = _target(archive, into, info.name)
                    if info.isdir():
                        target.mkdir(parents=True, exist_ok=True)
                    elif info.isfile():
                        _copy(tar.extractfile(info), target)
                    else:
                        raise DataError(
                            f"{archive.name}: member {info.name} is a link or device; refusing to "
                            "extract it"
                        )
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, zlib.error) as error:
        raise DataError(f"{archive.name}: corrupt archive ({error})") from None


def _target(archive: Path, into: Path, member: str) -> Path:
    """Where ``member`` goes under ``into``; a member that would escape it → DataError."""
    target = (into / member).resolve()
    if not target.is_relative_to(into.resolve()):
        raise DataError(
            f"{archive.name}: member {member} would land outside {into}; refusing to extract it"
        )
    return target


def _copy(member: IO[bytes], target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with member, target.open("wb") as sink:
        shutil.copyfileobj(member, sink)
