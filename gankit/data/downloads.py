"""Public data sets and weights files, downloaded only when asked for by name.

The aligned A|B sets of pix2pix (Isola et al., 2017) and the unpaired sets of CycleGAN
(Zhu et al., 2017), as their authors publish them. Nothing here runs by default: call
``download_dataset(name, root)`` and pass the folder it returns (or a sub-folder such as
``facades/train``) as the ``path`` of an ``aligned`` or ``unpaired_folders`` source.

Single files (:data:`PUBLIC_FILES`: the FID Inception-v3 weights) are fetched by
``download_file(name)`` into the cache folder (:func:`cache_dir`: ``$GANKIT_CACHE``, else
``$XDG_CACHE_HOME/gankit``, else ``~/.cache/gankit``), where their users look for them.
Each is checked against its published sha256 while it streams into a temporary file
beside its destination, and renamed into place only when the digest matches: a failed or
corrupt download leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import http.client
import os
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


class PublicFile(NamedTuple):
    """A file published at ``url`` whose content has the sha256 ``sha256``."""

    url: str
    sha256: str
    description: str

    @property
    def filename(self) -> str:
        return self.url.rsplit("/", 1)[1]


INCEPTION_URL = (
    "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/"
    "pt_inception-2015-12-05-6726825d.pth"
)
INCEPTION_SHA256 = "6726825d0af5f729cebd5821db510b11b1cfad8faad88a03f1befd49fb9129b2"
"""sha256 of pytorch-fid's FID Inception-v3 weights (95,628,359 bytes); its first eight
digits are the ``6726825d`` of the file name, torch.hub's naming convention."""

PUBLIC_FILES: dict[str, PublicFile] = {
    "inception": PublicFile(
        INCEPTION_URL,
        INCEPTION_SHA256,
        "FID Inception-v3 weights (pytorch-fid's port of TensorFlow's 2015-12-05 graph, 96 MB)",
    ),
}
CACHE_ENV = "GANKIT_CACHE"


def cache_dir() -> Path:
    """The folder downloaded files go to: ``$GANKIT_CACHE``, else ``$XDG_CACHE_HOME/gankit``,
    else ``~/.cache/gankit``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]).expanduser() / "gankit"
    return Path.home() / ".cache" / "gankit"


def cached_file(name: str) -> Path:
    """Where :func:`download_file` puts the public file ``name`` by default."""
    return cache_dir() / PUBLIC_FILES[name].filename


def download_file(name: str, root: str | Path | None = None) -> Path:
    """Download the public file ``name`` into ``root`` (default :func:`cache_dir`) and return
    its path. The sha256 is computed as it streams into a temporary file beside the target;
    on a match the file is renamed into place, else it is removed and the mismatch is a
    :class:`DataError`. A file already there with the right sha256 is not fetched again."""
    if name not in PUBLIC_FILES:
        raise DataError(f"unknown public file '{name}'; choose one of: {', '.join(PUBLIC_FILES)}")
    entry = PUBLIC_FILES[name]
    folder = Path(root).expanduser() if root is not None else cache_dir()
    target = folder / entry.filename
    if target.is_file() and _sha256_of(target) == entry.sha256:
        return target
    folder.mkdir(parents=True, exist_ok=True)
    handle, scratch = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".part")
    os.close(handle)
    try:
        instead = f"fetch it by hand, check its sha256 is {entry.sha256} and put it at {target}"
        digest = _fetch(name, entry.url, Path(scratch), instead)
        if digest != entry.sha256:
            raise DataError(
                f"{entry.url}: sha256 {digest} is not the published {entry.sha256}; the "
                "download is corrupt or the file was replaced, so it was not kept"
            )
        os.replace(scratch, target)
    finally:
        Path(scratch).unlink(missing_ok=True)
    return target


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


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
        _fetch(name, url, archive, "download it by hand and pass its folder as data.path")
        extracted = Path(scratch) / "extracted"
        _extract(archive, extracted)
        if not (extracted / name).is_dir():
            raise DataError(f"{url}: the archive holds no folder '{name}'")
        (extracted / name).rename(folder)
    return folder


def _fetch(name: str, url: str, destination: Path, instead: str) -> str:
    """Stream ``url`` into ``destination`` with a progress bar and return its sha256; a
    network failure → DataError, ending with what to do ``instead``."""
    digest = hashlib.sha256()
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
                    digest.update(chunk)
                    received += len(chunk)
                    progress.update(len(chunk))
            if received < total:
                raise http.client.IncompleteRead(b"", total - received)
    except (urllib.error.URLError, http.client.HTTPException, TimeoutError, ConnectionError) as e:
        raise DataError(
            f"cannot download {name} from {url} ({_reason(e)}); are you offline? {instead}"
        ) from None
    return digest.hexdigest()


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
