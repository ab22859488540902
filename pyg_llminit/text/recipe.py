"""Which text of an item is encoded: its title, several labelled fields, or a template.

LLMInit (arXiv 2503.01814) encodes each item's text (title; optionally brand, categories,
description). Item text fields live on ``data['item']`` as lists of str, one per item (see
:mod:`pyg_llminit.datasets.graph`). Three recipes:

* one field (default ``title``): the field's text as is, e.g. ``Essie Nail Polish``;
* several fields: the non-empty ones, labelled and joined by ``'; '``, in the order given,
  e.g. ``Title: Essie Nail Polish; Brand: Essie`` (labels: field name, underscores as
  spaces, first letter upper-case);
* a template: a Python format string over field names, e.g. ``'{title} by {brand}'``
  (format specs work: ``'{description:.200}'`` keeps 200 characters).

Whitespace runs (newlines, tabs) in the result are collapsed to single spaces.
"""
import json
import string
from typing import List, Optional, Sequence, Tuple, Union

from torch_geometric.data import HeteroData

from ..datasets.graph import ITEM, text_fields
from ..errors import UserInputError

RECIPE_VERSION = 1
Fields = Union[str, Sequence[str], None]


def _clean(text: object) -> str:
    return ' '.join(str(text).split())


def _label(field: str) -> str:
    words = field.replace('_', ' ').strip()
    return words[:1].upper() + words[1:]


def normalize_fields(fields: Fields) -> Optional[Tuple[str, ...]]:
    r"""``'title,brand'`` or ``['title', 'brand']`` -> ``('title', 'brand')``;
    ``None`` (every text field of the graph) stays ``None``."""
    if fields is None:
        return None
    if isinstance(fields, str):
        fields = fields.split(',')
    out = tuple(dict.fromkeys(f.strip() for f in fields if f and f.strip()))
    if not out:
        raise UserInputError('no item text field given')
    return out


def template_fields(template: str) -> Tuple[str, ...]:
    r"""The field names a format string uses, in order of first use."""
    names = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as err:
        raise UserInputError(f'bad item text template {template!r}: {err}') from err
    for _, name, _, _ in parsed:
        if name is None:
            continue
        base = name.split('.')[0].split('[')[0]
        if not base or base.isdigit():
            raise UserInputError(f'item text template {template!r} must name fields, '
                                 "e.g. '{title} by {brand}'")
        names.append(base)
    if not names:
        raise UserInputError(f'item text template {template!r} names no field')
    return tuple(dict.fromkeys(names))


def recipe_identity(fields: Fields = ('title',), template: Optional[str] = None) -> str:
    r"""A string naming the recipe (for embedding cache keys): the same fields and template
    always give the same string, and a change of the text format changes it."""
    if template is not None:
        return json.dumps({'recipe': RECIPE_VERSION, 'template': template})
    norm = normalize_fields(fields)
    return json.dumps({'recipe': RECIPE_VERSION, 'fields': '*' if norm is None else norm})


def item_texts(data: HeteroData, fields: Fields = ('title',),
               template: Optional[str] = None, node_type: str = ITEM) -> List[str]:
    r"""One text per item of :obj:`data`, in item order.

    Args:
        data (HeteroData): A graph with item text fields (lists of str) on
            ``data[node_type]``.
        fields (str or Sequence[str], optional): Fields to use: one field gives its text as
            is, several give ``'Title: ...; Brand: ...'`` (empty fields skipped); ``None``
            uses every text field of the graph, title first. (default: ``('title',)``)
        template (str, optional): A format string such as ``'{title} by {brand}'``; replaces
            :obj:`fields`.
        node_type (str): The items' node type, e.g. ``'movie'`` in PyG's MovieLens.
            (default: :obj:`'item'`)

    Returns:
        A list of ``num_items`` strings (an item without text gives ``''``).

    Raises:
        UserInputError: a field the graph lacks (the message lists those it has), a bad
            template, or no item text at all.
    """
    if node_type not in data.node_types:
        raise UserInputError(f"the graph has no node type '{node_type}' (it has: "
                             f"{', '.join(data.node_types)})")
    store = data[node_type]
    have = text_fields(data, node_type)
    names = template_fields(template) if template is not None else normalize_fields(fields)
    if names is None:
        names = tuple(have)
    for name in names:
        if name not in have:
            raise UserInputError(f"the graph has no item text field '{name}' "
                                 f"(it has: {', '.join(have) or 'none'})")
    num_items = store.num_nodes
    columns = {name: [_clean(v) for v in store[name]] for name in names}
    for name, col in columns.items():
        if len(col) != num_items:
            raise UserInputError(f"item text field '{name}' has {len(col)} entries for "
                                 f'{num_items} items')
    if num_items == 0 or not any(any(col) for col in columns.values()):
        raise UserInputError(f"every item text is empty (fields: {', '.join(names)})")
    if template is not None:
        try:
            return [_clean(template.format(**{n: columns[n][i] for n in names}))
                    for i in range(num_items)]
        except (ValueError, KeyError, IndexError, AttributeError, TypeError) as err:
            raise UserInputError(f'bad item text template {template!r}: {err}') from err
    if len(names) == 1:
        return columns[names[0]]
    return ['; '.join(f'{_label(n)}: {columns[n][i]}' for n in names if columns[n][i])
            for i in range(num_items)]


__all__ = ['item_texts', 'recipe_identity', 'normalize_fields', 'template_fields',
           'RECIPE_VERSION']
