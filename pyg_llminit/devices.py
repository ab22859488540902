"""Device names a user gives (``'auto'``, ``'cpu'``, ``'cuda'``, ``'cuda:1'``) resolved once,
for training and for the text encoder alike."""
from typing import TYPE_CHECKING

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
    if device.type == 'cuda' and not torch.cuda.is_available():
        raise invalid(param, f'{name}: no CUDA GPU is available on this machine')
    if device.type == 'cuda' and (device.index or 0) >= torch.cuda.device_count():
        raise invalid(param, f'{name}: this machine has {torch.cuda.device_count()} '
                      'CUDA GPU(s)')
    return device


__all__ = ['DEVICE_HELP', 'resolve_device']
