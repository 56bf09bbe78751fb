"""The vendored static files ship pre-compressed (scripts/compress_vendor.py): every one has its
.gz, which is exactly the file compressed, and the web process sends that .gz to a browser that
accepts gzip (WhiteNoise), so the code editor's 360 KB bundle travels as about 120 KB."""

import gzip
import importlib.util

import pytest

from tests.processes import ROOT

spec = importlib.util.spec_from_file_location("compress_vendor", ROOT / "scripts" / "compress_vendor.py")
compress_vendor = importlib.util.module_from_spec(spec)
spec.loader.exec_module(compress_vendor)


@pytest.mark.parametrize("path", compress_vendor.vendored(), ids=lambda p: p.name)
def test_each_vendored_file_has_its_up_to_date_gzip_copy(path):
    copy = path.with_name(path.name + ".gz")
    assert copy.exists(), f"{copy} is missing: run scripts/compress_vendor.py"
    assert gzip.decompress(copy.read_bytes()) == path.read_bytes(), f"{copy} is stale: run scripts/compress_vendor.py"
    assert copy.read_bytes() == compress_vendor.compressed(path.read_bytes())  # reproducible


def test_the_web_process_sends_the_editor_compressed_to_a_browser_that_accepts_gzip(client):
    url = "/static/vendor/codemirror6/editor.min.js"
    plain = client.get(url)
    zipped = client.get(url, HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    raw = b"".join(plain.streaming_content) if plain.streaming else plain.content
    sent = b"".join(zipped.streaming_content) if zipped.streaming else zipped.content
    assert plain.status_code == zipped.status_code == 200
    assert zipped["Content-Encoding"] == "gzip" and "Content-Encoding" not in plain
    assert len(sent) < len(raw) / 2 and gzip.decompress(sent) == raw
