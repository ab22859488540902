"""Keeps large freed CPU buffers in the process instead of handing them back to the OS."""
import ctypes
import ctypes.util
import sys

#: glibc's ``mallopt`` parameters (``malloc.h``).
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
#: The largest heap-served allocation glibc allows on 64-bit systems (its ceiling for
#: ``M_MMAP_THRESHOLD``).
MMAP_THRESHOLD = 32 * 1024 * 1024
#: Freed memory kept at the top of the heap before glibc trims it.
TRIM_THRESHOLD = 512 * 1024 * 1024

_done = False


def retain_freed_memory() -> bool:
    r"""Asks glibc to serve allocations up to 32 MB from its heap and to keep up to
    512 MB of freed heap memory, instead of mapping each large buffer afresh and unmapping
    it when freed.

    Why: every training step allocates and frees several ``[N, d]`` buffers (17.6 MB each
    for Beauty at d = 128). Mapped afresh, each one page-faults on every 4 KB page at first
    touch, which is slow under virtualisation: a Beauty run made about 13x more page
    faults and slower epochs without it (benchmarks/RESULTS.md). The ``train`` command
    calls it; the library does not, since a process-wide setting is the application's
    choice. Call it once per process to train as fast as the command line does.

    Returns:
        ``True`` where glibc took the settings; ``False`` elsewhere (macOS, Windows, musl),
        where nothing changes.
    """
    global _done
    if _done:
        return True
    if not sys.platform.startswith('linux'):
        return False
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6').mallopt
    except (OSError, AttributeError):  # no glibc (e.g. musl without mallopt)
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    _done = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and \
        bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    return _done


__all__ = ['retain_freed_memory']
