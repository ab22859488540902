"""Item cold start: scoring items that arrived after training from their text.

A :class:`~pyg_llminit.transforms.split.ColdItemSplit` holds out whole items;
:mod:`.maps` learns text -> trained item embedding on the warm items; :mod:`.protocol`
validates and tests on the held-out items beside the references.
"""
from .maps import MAPS, MLPMap, RidgeMap, make_map
from .protocol import REFERENCES, ColdItemProtocol, user_text_profiles

__all__ = ['MAPS', 'REFERENCES', 'RidgeMap', 'MLPMap', 'make_map', 'ColdItemProtocol',
           'user_text_profiles']
