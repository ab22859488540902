"""Interaction graphs as bipartite :class:`~torch_geometric.data.HeteroData`."""
from .beauty import AmazonBeauty
from .graph import EDGE_TYPE, ITEM, REV_EDGE_TYPE, USER, build_interaction_graph
from .registry import GRAPHS, load_graph

__all__ = ['AmazonBeauty', 'EDGE_TYPE', 'REV_EDGE_TYPE', 'USER', 'ITEM',
           'build_interaction_graph', 'load_graph', 'GRAPHS']
