"""gankit download inception: the FID Inception-v3 weights fetched into the cache folder,
kept only when their sha256 is the published one, put in place atomically, and found there
by --extractor inception. Tested against a local HTTP server and file:// URLs serving a
stand-in file, with the expected digest patched to the stand-in's."""

import hashlib
import http.server
import socket
import threading
from functools import partial

import pytest
import torch

from gankit.cli import main
from gankit.data import DataError, downloads
from gankit.data.downloads import (
    CACHE_ENV,
    INCEPTION_SHA256,
    INCEPTION_URL,
    PublicFile,
    cache_dir,
    cached_file,
    download_file,
)
from gankit.metrics.inception import (
    WEIGHTS_ENV,
    InceptionExtractor,
    InceptionWeightsError,
    synthetic_weights,
    weights_path,
)

FILENAME = "pt_inception-2015-12-05-6726825d.pth"
CONTENT = b"stand-in for the Inception weights\n" * 1000
CONTENT_SHA256 = hashlib.sha256(CONTENT).hexdigest()


@pytest.fixture
def server(tmp_path):
    """A local HTTP server serving ``FILENAME`` with :data:`CONTENT`: its base URL."""
    served = tmp_path / "served"
    served.mkdir()
    (served / FILENAME).write_bytes(CONTENT)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=served))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _publish(monkeypatch, url, sha256=CONTENT_SHA256):
    monkeypatch.setitem(downloads.PUBLIC_FILES, "inception", PublicFile(url, sha256, "stand-in"))


def _closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_published_digest_is_the_one_the_file_name_starts():
    assert INCEPTION_URL.endswith(FILENAME)
    assert len(INCEPTION_SHA256) == 64 and int(INCEPTION_SHA256, 16) >= 0
    assert INCEPTION_SHA256.startswith("6726825d")  # torch.hub's name-prefix convention


def test_the_right_digest_puts_the_file_in_place(server, monkeypatch, tmp_path):
    _publish(monkeypatch, f"{server}/{FILENAME}")
    path = download_file("inception", tmp_path / "cache")
    assert path == tmp_path / "cache" / FILENAME and path.read_bytes() == CONTENT
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [FILENAME]  # no scratch file
    # a second call finds it by its digest and fetches nothing, even offline
    _publish(monkeypatch, f"http://127.0.0.1:{_closed_port()}/{FILENAME}")
    assert download_file("inception", tmp_path / "cache") == path


def test_a_file_url_works_too(monkeypatch, tmp_path):
    (tmp_path / FILENAME).write_bytes(CONTENT)
    _publish(monkeypatch, (tmp_path / FILENAME).as_uri())
    path = download_file("inception", tmp_path / "cache")
    assert path.read_bytes() == CONTENT


def test_a_wrong_digest_leaves_nothing_behind(server, monkeypatch, tmp_path):
    _publish(monkeypatch, f"{server}/{FILENAME}", sha256="0" * 64)
    with pytest.raises(DataError, match="is not the published 0000") as wrong:
        download_file("inception", tmp_path / "cache")
    assert "\n" not in str(wrong.value)
    assert CONTENT_SHA256 in str(wrong.value)
    assert list((tmp_path / "cache").iterdir()) == []


def test_offline_says_so_in_one_line(monkeypatch, tmp_path, capsys):
    _publish(monkeypatch, f"http://127.0.0.1:{_closed_port()}/{FILENAME}")
    with pytest.raises(DataError, match="are you offline") as offline:
        download_file("inception", tmp_path / "cache")
    assert "\n" not in str(offline.value) and "cannot download inception" in str(offline.value)
    assert list((tmp_path / "cache").iterdir()) == []
    assert main(["download", "inception", "--root", str(tmp_path / "cache")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: cannot download inception")


def test_the_cache_folder_is_where_eval_looks(server, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.delenv(WEIGHTS_ENV, raising=False)
    with pytest.raises(InceptionWeightsError, match="run `gankit download inception`"):
        weights_path()
    _publish(monkeypatch, f"{server}/{FILENAME}")
    assert main(["download", "inception"]) == 0
    out = capsys.readouterr().out
    assert str(tmp_path / "cache" / FILENAME) in out and "finds it there" in out
    assert weights_path() == cached_file("inception") == tmp_path / "cache" / FILENAME
    # the extractor loads what it finds there (stand-in weights saved under the name)
    torch.save(synthetic_weights(0), cached_file("inception"))
    extractor = InceptionExtractor()
    assert extractor.path == cached_file("inception") and not extractor.standard


def test_the_cache_folder_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv(CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "gankit"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "gankit"
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "mine"))
    assert cache_dir() == tmp_path / "mine"


def test_the_listing_names_the_weights(capsys):
    assert main(["download"]) == 0
    rows = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert "weights" in rows["inception"] and "facades" in rows
