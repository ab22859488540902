"""The download helper against a real HTTPS server on localhost: verified TLS, pins,
retries, time-outs, and never a reused or half-written file."""
import hashlib
import os
import signal
import subprocess
import sys
import time

import pytest

from pyg_llminit.datasets.download import DownloadError, download

from .conftest import Route

BODY = bytes(range(256)) * 4000  # 1 MB


def quick(**kwargs):
    return dict(backoff=0.01, progress=False, **kwargs)


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name != 'data.bin')


def test_a_pinned_file_is_downloaded_complete(https_server, tmp_path):
    base, routes = https_server
    routes['/data.bin'] = Route(BODY)
    out = download(f'{base}/data.bin', tmp_path / 'data.bin', size=len(BODY),
                   sha256=hashlib.sha256(BODY).hexdigest(),
                   md5=hashlib.md5(BODY).hexdigest(), **quick())
    assert out.read_bytes() == BODY and leftovers(tmp_path) == []


def test_a_leftover_partial_file_is_never_reused(https_server, tmp_path):
    base, routes = https_server
    routes['/data.bin'] = Route(BODY)
    (tmp_path / 'data.bin.part').write_bytes(BODY[:1000])  # PyG's name for a partial file
    download(f'{base}/data.bin', tmp_path / 'data.bin', **quick())
    assert (tmp_path / 'data.bin').read_bytes() == BODY
    assert leftovers(tmp_path) == ['data.bin.part']  # untouched, and not taken for the file


def test_transient_failures_are_retried(https_server, tmp_path):
    base, routes = https_server
    routes['/data.bin'] = Route(BODY, fail_first=2, fail_status=503)
    download(f'{base}/data.bin', tmp_path / 'data.bin', **quick())
    assert routes['/data.bin'].requests == 3
    assert (tmp_path / 'data.bin').read_bytes() == BODY


@pytest.mark.parametrize('route, requests, message', [
    (Route(status=404), 1, 'Not Found'),                       # not transient: no retry
    (Route(BODY, truncate=5000), 3, 'connection closed after'),  # cut short every time
    (Route(BODY, delay=1.5), 3, 'timed out'),
])
def test_failures_end_in_one_error_and_leave_nothing(https_server, tmp_path, route, requests,
                                                     message):
    base, routes = https_server
    routes['/data.bin'] = route
    with pytest.raises(DownloadError, match=f'could not download .*{message}.*by hand'):
        download(f'{base}/data.bin', tmp_path / 'data.bin', retries=3, timeout=0.5,
                 **quick())
    assert route.requests == requests
    assert list(tmp_path.iterdir()) == []


def test_a_wrong_digest_or_size_is_refused(https_server, tmp_path):
    base, routes = https_server
    routes['/data.bin'] = Route(BODY)
    with pytest.raises(DownloadError, match='md5 .* is not the pinned 0+; refusing'):
        download(f'{base}/data.bin', tmp_path / 'data.bin', md5='0' * 32, **quick())
    with pytest.raises(DownloadError, match='got 1,024,000 bytes, expected 5'):
        download(f'{base}/data.bin', tmp_path / 'data.bin', size=5, **quick())
    assert routes['/data.bin'].requests == 2  # a wrong file is not fetched again
    assert list(tmp_path.iterdir()) == []


def test_tls_is_verified_and_http_refused(https_server, tmp_path, monkeypatch):
    base, routes = https_server
    routes['/data.bin'] = Route(BODY)
    monkeypatch.delenv('SSL_CERT_FILE')  # the session's certificate is not trusted now
    with pytest.raises(DownloadError, match='CERTIFICATE_VERIFY_FAILED'):
        download(f'{base}/data.bin', tmp_path / 'data.bin', retries=1, **quick())
    with pytest.raises(DownloadError, match='not https'):
        download(base.replace('https', 'http') + '/data.bin', tmp_path / 'data.bin')
    assert list(tmp_path.iterdir()) == []


def test_an_interrupted_download_leaves_no_temporary_file(https_server, tmp_path):
    base, routes = https_server
    # The server sends 1 KB and then waits until released: the download cannot finish
    # before the signal, however fast or loaded the machine.
    routes['/slow.bin'] = Route(BODY, stall=1024)
    code = ('import sys\nfrom pyg_llminit.datasets.download import download\n'
            'download(sys.argv[1], sys.argv[2], progress=False)\n')
    # SIGINT handled as by default even where pytest runs as a background job, which
    # inherits SIGINT ignored (and so did the child: the signal never arrived)
    process = subprocess.Popen([sys.executable, '-c', code, f'{base}/slow.bin',
                                str(tmp_path / 'slow.bin')], env=os.environ.copy(),
                               stderr=subprocess.PIPE,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.time() + 60
    while routes['/slow.bin'].requests == 0:  # connected, the .part file already exists
        assert time.time() < deadline and process.poll() is None
        time.sleep(0.02)
    assert [p.suffix for p in tmp_path.iterdir()] == ['.part']
    process.send_signal(signal.SIGINT)
    process.wait(timeout=60)
    routes['/slow.bin'].release.set()
    assert process.returncode != 0 and b'KeyboardInterrupt' in process.stderr.read()
    assert list(tmp_path.iterdir()) == []


def test_the_package_downloads_over_https_only():
    from pyg_llminit.datasets import amazon, movielens
    assert amazon.URL.startswith('https://snap.stanford.edu/')
    assert movielens.URL.startswith('https://files.grouplens.org/')
    assert set(movielens.MD5) == {'100k', '1m'}
