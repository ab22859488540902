"""Interaction graphs as bipartite :class:`~torch_geometric.data.HeteroData`."""
from .amazon import CATEGORIES, Amazon2014, normalize_category
from .beauty import AmazonBeauty
from .graph import EDGE_TYPE, ITEM, REV_EDGE_TYPE, USER, build_interaction_graph
from .local import load_local_graph
from .movielens import MovieLens
from .registry import ALIASES, GRAPHS, load_graph
from .synthetic import synthetic_graph

__all__ = ['AmazonBeauty', 'Amazon2014', 'MovieLens', 'CATEGORIES', 'normalize_category',
           'load_local_graph', 'EDGE_TYPE', 'REV_EDGE_TYPE', 'USER', 'ITEM',
           'build_interaction_graph', 'load_graph', 'GRAPHS', 'ALIASES', 'synthetic_graph']
