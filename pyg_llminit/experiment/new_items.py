"""Ranking brand-new items for the users of a finished run, from the items' text alone.

The new items' texts are encoded with the run's own encoder and text recipe; a map
(:mod:`~pyg_llminit.coldstart.maps`, the run's ``cold_map``) fitted on the run's warm items
turns them into item embeddings of the trained model, which then scores them against its
user table. Nothing is retrained, so a catalogue update costs one encoding and one
least-squares fit (seconds).
"""
from typing import TYPE_CHECKING, List, Tuple

import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from ..errors import DataError, UserInputError
from ..transforms.split import train_index
from ..coldstart.maps import fit_on_warm_items

if TYPE_CHECKING:
    from .loading import Run


def read_new_items(path: str) -> HeteroData:
    r"""A graph of item nodes only, with the ids (``data['item'].ids``) and text fields of a
    new-items file: a CSV with a header (``item_id`` or ``item``, then text columns such as
    ``title``) or a RecBole ``.item`` file."""
    from ..datasets.local import read_items
    fields = read_items(path, unique=True)
    ids = list(fields['title'])
    if not ids:
        raise DataError(f'{path}: no items')
    if not any(text.strip() for column in fields.values() for text in column.values()):
        raise DataError(f'{path}: every item text is empty')
    data = HeteroData()
    data['item'].num_nodes = len(ids)
    data['item'].ids = ids
    for field, texts in fields.items():
        data['item'][field] = [texts[i] for i in ids]
    return data


def check_new_items(run: 'Run', new: HeteroData, path: str) -> None:
    r"""What makes new-item scoring impossible for :obj:`run`, in one line each: item
    vectors from a file (no encoder to embed new texts alike), a graph without item text,
    or new ids that are already items of the graph."""
    config = run.config
    if config.embedding_file is not None:
        raise UserInputError(f'the run took its item vectors from {config.embedding_file}, '
                             'not from an encoder: new items cannot be embedded the same way')
    from ..text.recipe import normalize_fields, template_fields
    wanted = (template_fields(config.text_template) if config.text_template else
              normalize_fields(config.text_fields)) or ()
    items = run.data['item']  # graphs fill absent text fields with ''
    if not any(str(text).strip() for f in wanted if f in items for text in items[f]):
        raise UserInputError("the run's graph has no item text: there is nothing to learn a "
                             'map from text to item embedding with')
    missing = [f for f in wanted if f not in new['item']]
    if missing:
        raise DataError(f"{path}: missing column '{missing[0]}' (the run's item text "
                        f"uses {', '.join(wanted)})")
    known = set(run.data['item'].ids)
    clash = [i for i in new['item'].ids if i in known]
    if clash:
        shown = ', '.join(clash[:3]) + (f' and {len(clash) - 3} more' if len(clash) > 3 else '')
        raise DataError(f'{path}: {len(clash)} item id(s) already in the graph ({shown}):'
                        ' new items need new ids')


@torch.no_grad()
def new_item_scorer(run: 'Run', new: HeteroData, progress: bool = False
                    ) -> Tuple[Tensor, Tensor]:
    r"""The trained user table ``[U, d]`` and the new items' mapped embeddings ``[N, d]``
    (their scores are ``users @ items.T``)."""
    from ..text import encode_items
    config = run.config
    encode = dict(encoder=config.encoder, fields=config.text_fields,
                  template=config.text_template, progress=progress,
                  device=config.encoder_device)
    text = encode_items(run.train, **encode)
    new_text = encode_items(new, **encode)
    users, items = (t.float().cpu() for t in run.model(run.adj))
    fitted = fit_on_warm_items(config.cold_map, text, items, train_index(run.train),
                               config.train.seed)
    return users, fitted(new_text)


def rank_new_items(users: Tensor, items: Tensor, index: Tensor, k: int
                   ) -> Tuple[Tensor, Tensor]:
    r"""Top-:obj:`k` new items ``[B, k]`` and their scores for the users :obj:`index`."""
    scores = users[index] @ items.T
    top = torch.topk(scores, min(k, items.size(0)), dim=1)
    return top.indices, top.values


__all__: List[str] = ['read_new_items', 'check_new_items', 'new_item_scorer',
                      'rank_new_items']
