"""A run's ``test_per_user.csv``: every test user's original id, training interactions and
metrics, for paired tests and one's own analyses."""
import csv
from typing import Dict, Sequence

import torch

from ..errors import UserInputError
from ..io import PathLike, atomic_path

#: The integer columns (float32 holds integers exactly only below 2**24).
INTEGER_COLUMNS = ('user_index', 'train_degree')


def write_per_user(path: PathLike, per_user: Dict[str, torch.Tensor],
                   user_ids: Sequence[str]) -> None:
    r"""Writes one row per test user, atomically: its original id, its index, then the
    columns of :obj:`per_user`.

    Args:
        path (str or Path): The CSV file.
        per_user (Dict[str, Tensor]): ``{'user': [N], 'train_degree': [N], 'recall@10': [N],
            ...}`` (see :func:`~pyg_llminit.evaluation.evaluate_held_out`).
        user_ids (Sequence[str]): Original id of every user index.
    """
    names = [k for k in per_user if k != 'user']
    rows = zip(per_user['user'].tolist(), *(per_user[k].tolist() for k in names))
    with atomic_path(path) as tmp, open(tmp, 'w', newline='') as f:
        out = csv.writer(f)
        out.writerow(['user_id', 'user_index', *names])
        for user, *values in rows:
            out.writerow([user_ids[user], user,
                          *(v if isinstance(v, int) else f'{v:.6g}' for v in values)])


def read_per_user(path: PathLike) -> Dict[str, torch.Tensor]:
    r"""The columns of a :func:`write_per_user` file but ``user_id``, as tensors keyed as it
    takes them (the file's ``user_index`` column comes back as ``'user'``); a malformed
    file is a :class:`~pyg_llminit.errors.UserInputError` naming it."""
    try:
        with open(path, newline='') as f:
            rows = list(csv.reader(f))
        header, body = rows[0][1:], [row[1:] for row in rows[1:]]
        for name in INTEGER_COLUMNS:
            if name not in header:
                raise UserInputError(f'{path}: malformed (no column {name!r})')
        columns = {name: torch.tensor([int(row[i]) for row in body])
                   if name in INTEGER_COLUMNS
                   else torch.tensor([float(row[i]) for row in body])
                   for i, name in enumerate(header)}
    except (IndexError, ValueError) as e:
        raise UserInputError(f'{path}: malformed ({e})') from None
    return {'user': columns.pop('user_index'), **columns}


__all__ = ['write_per_user', 'read_per_user', 'INTEGER_COLUMNS']
