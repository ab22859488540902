"""Device names a user gives (``'auto'``, ``'cpu'``, ``'cuda'``, ``'cuda:1'``) resolved once,
for training and for the text encoder alike."""
from typing import TYPE_CHECKING, Optional

from .errors import invalid

if TYPE_CHECKING:
    import torch

#: Help text of every device option.
DEVICE_HELP = "'cpu', 'cuda', 'cuda:1', or 'auto' (a GPU when there is one)."


def resolve_device(name: str, param: str = 'device') -> 'torch.device':
    r"""``'auto'`` picks CUDA when present; an unknown name or an absent CUDA device is a
    user error naming :obj:`param` (the option it came from)."""
    import torch  # here, not at the top: the CLI reads DEVICE_HELP without loading torch
    if name == 'auto':
        return torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError):
        raise invalid(param, f"'{name}' is not a device") from None
    if device.type not in ('cpu', 'cuda'):  # meta, mps, xpu, ...: not trained on here
        raise invalid(param, f"'{name}': training and encoding run on 'cpu' or 'cuda' "
                      'devices')
    if device.type == 'cuda' and not torch.cuda.is_available():
        raise invalid(param, f'{name}: no CUDA GPU is available on this machine')
    if device.type == 'cuda' and (device.index or 0) >= torch.cuda.device_count():
        raise invalid(param, f'{name}: this machine has {torch.cuda.device_count()} '
                      'CUDA GPU(s)')
    return device


def free_memory(device: 'torch.device') -> Optional[int]:
    r"""Bytes free on :obj:`device` now (for the CPU, the kernel's ``MemAvailable``);
    ``None`` where it cannot be told."""
    import torch
    if device.type == 'cuda':
        return torch.cuda.mem_get_info(device)[0]
    try:
        with open('/proc/meminfo') as f:
            for line in f:
                if line.startswith('MemAvailable:'):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def check_tables_fit(dim: int, rows: int, device: str, param: str = 'embedding_dim') -> None:
    r"""Refuses embedding tables of :obj:`rows` users and items, :obj:`dim` wide, whose
    training state (float32 weights, gradients and Adam's two moments: 16 bytes per entry)
    exceeds the memory free on :obj:`device`, before anything is allocated."""
    need, where = 16 * rows * dim, resolve_device(device)
    free = free_memory(where)
    if free is not None and need > free:
        raise invalid(param, f'{dim} is too wide: training {rows:,} users and items of {dim} '
                      f'dimensions needs about {need / 2 ** 30:,.1f} GiB (float32 weights, '
                      f'gradients and Adam state), more than the {free / 2 ** 30:,.1f} GiB '
                      f'free on {where}')


__all__ = ['DEVICE_HELP', 'resolve_device', 'free_memory', 'check_tables_fit']
