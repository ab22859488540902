"""Downloads of raw dataset files: https with verified TLS, a time-out, retries with
back-off, a size check and a pinned digest where the source is fixed, and a fresh
temporary file that is never reused and is removed on any failure or interrupt.

PyG's ``download_url`` reuses a leftover partial file as if it were complete and has no
checksums or time-out; this module replaces it for every graph the package downloads.
"""
import hashlib
import os
import ssl
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable, Optional, Union

from ..console import progress_disabled
from ..errors import UserInputError

#: Seconds to wait for the server on connect and on every read.
TIMEOUT = 60
#: Attempts in all, and the first back-off in seconds (doubled after every failure).
RETRIES, BACKOFF = 4, 2.0
CHUNK = 1 << 20


class DownloadError(UserInputError):
    r"""A download that failed for good (after its retries), with the URL and the reason."""


def _transient(error: BaseException) -> bool:
    r"""Whether trying again may help: time-outs, refused or reset connections, and server
    errors (5xx, 429); not 4xx answers or a wrong digest."""
    if isinstance(error, urllib.error.HTTPError):
        return error.code >= 500 or error.code == 429
    return isinstance(error, (urllib.error.URLError, TimeoutError, ConnectionError))


def download(url: str, path: Union[str, Path], *, size: Optional[int] = None,
             sha256: Optional[str] = None, md5: Optional[str] = None,
             timeout: float = TIMEOUT, retries: int = RETRIES, backoff: float = BACKOFF,
             progress: bool = True,
             opener: Optional[Callable] = None) -> Path:
    r"""Downloads :obj:`url` to :obj:`path`.

    The bytes go to a new temporary file beside :obj:`path` (never a leftover one), which
    is renamed onto :obj:`path` only once complete: as long as the server announced, of
    :obj:`size` if given, and with the pinned digest if given. Transient failures are
    retried with exponential back-off; anything else, and the last failure, is a
    :class:`DownloadError` saying where to put the file by hand.

    Args:
        url (str): An ``https://`` URL (``http://`` is refused: use the host's https).
        path (str or Path): The file to write.
        size (int, optional): The expected number of bytes.
        sha256 (str, optional), md5 (str, optional): The expected hex digest (MD5 where
            the publisher pins only that, as GroupLens).
        timeout (float): Seconds for the connection and every read.
        retries (int): Attempts in all.
        backoff (float): Seconds before the second attempt, doubled after each failure.
        progress (bool): A progress bar on stderr.
        opener (callable, optional): ``urllib.request.urlopen``-like, for tests.
    """
    path = Path(path)
    if not url.startswith('https://'):
        raise DownloadError(f'refusing to download {url}: not https')
    open_url = opener or (lambda u, timeout: urllib.request.urlopen(
        u, timeout=timeout, context=ssl.create_default_context()))
    path.parent.mkdir(parents=True, exist_ok=True)
    delay = backoff
    for attempt in range(1, retries + 1):
        try:
            _fetch_once(url, path, open_url, timeout, size, sha256, md5, progress)
            return path
        except DownloadError:
            raise
        except (OSError, urllib.error.URLError) as error:
            if attempt == retries or not _transient(error):
                reason = getattr(error, 'reason', None) or error
                raise DownloadError(f'could not download {url} ({reason}); download it by '
                                    f'hand to {path}') from None
            time.sleep(delay)
            delay *= 2
    raise AssertionError('unreachable')


def _fetch_once(url: str, path: Path, open_url: Callable, timeout: float,
                size: Optional[int], sha256: Optional[str], md5: Optional[str],
                progress: bool) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f'.{path.name}.', suffix='.part', dir=path.parent)
    digests = {'sha256': hashlib.sha256(), 'md5': hashlib.md5(usedforsecurity=False)}
    received = 0
    try:
        with os.fdopen(fd, 'wb') as out, open_url(url, timeout=timeout) as response:
            announced = response.headers.get('Content-Length')
            announced = int(announced) if announced and announced.isdigit() else None
            bar = _progress_bar(path.name, announced or size, progress)
            while chunk := response.read(CHUNK):
                out.write(chunk)
                received += len(chunk)
                for digest in digests.values():
                    digest.update(chunk)
                bar.update(len(chunk))
            bar.close()
        if announced is not None and received != announced:
            raise ConnectionError(f'connection closed after {received:,} of '
                                  f'{announced:,} bytes')
        if size is not None and received != size:
            raise DownloadError(f'{url}: got {received:,} bytes, expected {size:,}; the '
                                'file changed at the source or was cut short')
        for name, expected in (('sha256', sha256), ('md5', md5)):
            if expected and digests[name].hexdigest() != expected.lower():
                raise DownloadError(f'{url}: {name} {digests[name].hexdigest()} is not the '
                                    f'pinned {expected}; refusing the file')
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _progress_bar(name: str, total: Optional[int], enabled: bool):
    from tqdm.auto import tqdm
    return tqdm(total=total, unit='B', unit_scale=True, desc=f'downloading {name}',
                disable=progress_disabled(enabled), leave=False)


__all__ = ['download', 'DownloadError']
