"""Public data set downloads, with the network replaced by local archives and failures."""

from __future__ import annotations

import io
import re
import tarfile
import urllib.error
import urllib.request
import zipfile

import pytest
from PIL import Image

from gankit.data import (
    PUBLIC_DATASETS,
    AlignedOptions,
    DataError,
    UnpairedFoldersOptions,
    build_source,
    download_dataset,
)


def _png(colour: tuple[int, int, int], size: tuple[int, int] = (8, 4)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def _tar_gz(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        for name, data in members.items():
            zipped.writestr(name, data)
    return buffer.getvalue()


class _Response(io.BytesIO):
    """What ``urlopen`` returns, reduced to the parts a download reads."""

    def __init__(self, body: bytes, length: int | None = None) -> None:
        super().__init__(body)
        self.headers = {"Content-Length": str(len(body) if length is None else length)}


@pytest.fixture
def serve(monkeypatch):
    """Answer every URL with the given body; returns the list of URLs asked for."""
    asked: list[str] = []

    def install(body: bytes, length: int | None = None) -> list[str]:
        def urlopen(url, timeout=None):
            asked.append(url)
            return _Response(body, length)

        monkeypatch.setattr(urllib.request, "urlopen", urlopen)
        return asked

    return install


def test_table_offers_the_published_sets():
    for name in ["facades", "maps", "edges2shoes"]:
        url = f"http://efrosgans.eecs.berkeley.edu/pix2pix/datasets/{name}.tar.gz"
        assert PUBLIC_DATASETS[name].url == url and PUBLIC_DATASETS[name].kind == "aligned"
    for name in ["horse2zebra", "apple2orange", "monet2photo"]:
        url = f"http://efrosgans.eecs.berkeley.edu/cyclegan/datasets/{name}.zip"
        assert PUBLIC_DATASETS[name].url == url and PUBLIC_DATASETS[name].kind == "unpaired"
    assert all(entry.description for entry in PUBLIC_DATASETS.values())


def test_unknown_name_lists_the_known_ones(tmp_path):
    with pytest.raises(
        DataError, match=r"^unknown public data set 'horse2zebr'; choose one of: "
    ) as e:
        download_dataset("horse2zebr", tmp_path)
    assert all(name in str(e.value) for name in PUBLIC_DATASETS)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        (
            urllib.error.URLError("[Errno -3] Temporary failure\nin name resolution"),
            "[Errno -3] Temporary failure in name resolution",
        ),
        (urllib.error.HTTPError("u", 404, "Not Found", {}, None), "HTTP 404 Not Found"),
        (TimeoutError("timed out"), "timed out"),
    ],
)
def test_network_failure_is_one_clear_line(tmp_path, monkeypatch, failure, reason):
    def urlopen(url, timeout=None):
        raise failure

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    url = "http://efrosgans.eecs.berkeley.edu/cyclegan/datasets/horse2zebra.zip"
    message = (
        f"cannot download horse2zebra from {url} ({reason}); are you offline? download it by "
        "hand and pass its folder as data.path"
    )
    with pytest.raises(DataError, match=f"^{re.escape(message)}$"):
        download_dataset("horse2zebra", tmp_path / "data")
    assert list((tmp_path / "data").iterdir()) == []  # the scratch folder is gone


def test_truncated_download_is_a_network_failure(tmp_path, serve):
    serve(_tar_gz({"facades/train/1.png": _png((1, 2, 3))}), length=10**6)
    with pytest.raises(DataError, match=r"^cannot download facades from .*IncompleteRead"):
        download_dataset("facades", tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_tar_gz_is_extracted_and_readable(tmp_path, serve):
    members = {
        "facades/train/1.png": _png((10, 20, 30), (16, 8)),
        "facades/val/1.png": _png((40, 50, 60), (16, 8)),
    }
    asked = serve(_tar_gz(members))
    folder = download_dataset("facades", tmp_path / "data")
    assert folder == tmp_path / "data" / "facades"
    assert asked == [PUBLIC_DATASETS["facades"].url]
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["facades"]  # no scratch left
    source = build_source(AlignedOptions(path=str(folder / "train"), size=4))
    assert source.inputs[0, :, 0, 0].tolist() == [10, 20, 30]
    # Asked again, the folder is returned as it is, without touching the network.
    assert download_dataset("facades", tmp_path / "data") == folder and len(asked) == 1


def test_zip_is_extracted_and_readable(tmp_path, serve):
    members = {
        "horse2zebra/trainA/a.png": _png((200, 0, 0), (6, 6)),
        "horse2zebra/trainB/b.png": _png((0, 0, 200), (6, 6)),
        "horse2zebra/trainB/c.png": _png((0, 0, 100), (6, 6)),
    }
    serve(_zip(members))
    folder = download_dataset("horse2zebra", tmp_path)
    source = build_source(UnpairedFoldersOptions(path=str(folder), size=4))
    assert len(source.domain_a) == 1 and len(source.domain_b) == 2
    assert source.domain_b.images[:, 2, 0, 0].tolist() == [200, 100]


@pytest.mark.parametrize("pack", [_tar_gz, _zip])
def test_members_escaping_the_root_are_refused(tmp_path, serve, pack):
    root = tmp_path / "data"
    serve(pack({"facades/train/1.png": _png((0, 0, 0)), "../../evil.txt": b"gotcha"}))
    name = "facades" if pack is _tar_gz else "horse2zebra"
    with pytest.raises(
        DataError, match=r"member \.\./\.\./evil\.txt would land outside .*refusing"
    ):
        download_dataset(name, root)
    assert not (tmp_path / "evil.txt").exists() and not (root / "evil.txt").exists()
    assert list(root.iterdir()) == []


def test_links_in_a_tar_are_refused(tmp_path, serve):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        link = tarfile.TarInfo("facades/passwd")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(link)
    serve(buffer.getvalue())
    with pytest.raises(DataError, match=r"member facades/passwd is a link or device; refusing"):
        download_dataset("facades", tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_corrupt_archive_and_wrong_folder(tmp_path, serve):
    serve(b"this is no archive")
    with pytest.raises(DataError, match=r"^horse2zebra\.zip: corrupt archive"):
        download_dataset("horse2zebra", tmp_path)
    serve(_tar_gz({"other/train/1.png": _png((0, 0, 0))}))
    with pytest.raises(DataError, match=r"facades\.tar\.gz: the archive holds no folder 'facades'"):
        download_dataset("facades", tmp_path)
    assert list(tmp_path.iterdir()) == []
