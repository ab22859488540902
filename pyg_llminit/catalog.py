"""The names a user picks from: backbones, initialisations and graphs.

Plain data, no torch import: the command line reads its choices and help texts from here
without loading PyG (``pyg-llminit --help`` stays fast), and :mod:`pyg_llminit.models`,
:mod:`pyg_llminit.transforms` and :mod:`pyg_llminit.datasets` build their registries from
the same entries, so every name has one source.
"""
from typing import Dict, Optional, Tuple

#: ``--model`` name -> class name in :mod:`pyg_llminit.models`.
MODELS: Dict[str, str] = {
    'lightgcn': 'LightGCN',
    'sgl': 'SGL',
    'sgcl': 'SGCL',
    'mf': 'MF',
    'ngcf': 'NGCF',
    'simgcl': 'SimGCL',
    'xsimgcl': 'XSimGCL',
}

#: LLMInit's selections of the item text embedding's dimensions (arXiv 2503.01814; ``'random'``
#: draws with replacement, as the authors' code, ``'random-distinct'`` without) and two
#: baselines: ``'pca'`` projects, ``'full'`` keeps every dimension.
STRATEGIES: Tuple[str, ...] = ('uniform', 'variance', 'random', 'random-distinct', 'pca',
                               'full')

#: How the item text embedding is normalised before LLMInit selects its dimensions:
#: ``'minmax'`` maps all its values at once to [0, 1], as the authors' code does through
#: RecBole (``normalize_all: True``); ``'none'`` uses the encoder's values as they are.
NORMALIZATIONS: Tuple[str, ...] = ('none', 'minmax')

#: Initialisations: ``'none'`` is the backbone's own (the baseline), the rest LLMInit's.
INITS: Tuple[str, ...] = ('none',) + STRATEGIES

#: Experiment trackers a run can also report to (``--logger``; see
#: :mod:`pyg_llminit.experiment.trackers`) -> the file or folder each keeps in a run folder.
LOGGERS: Dict[str, str] = {'csv': 'metrics.csv', 'tensorboard': 'tensorboard'}

#: What ``pyg-llminit tune`` searches for every backbone: ``name -> (low, high, log scale)``.
TUNE_SPACE: Dict[str, Tuple[float, float, bool]] = {
    'lr': (1e-4, 1e-2, True),
    'reg_weight': (1e-7, 1e-2, True),
}
#: Each backbone's own knobs (its ``--model-option`` names), searched on top of
#: :data:`TUNE_SPACE`.
MODEL_TUNE_SPACE: Dict[str, Dict[str, Tuple[float, float, bool]]] = {
    'sgl': {'ssl_weight': (0.005, 1.0, True), 'ssl_tau': (0.05, 1.0, True)},
    'sgcl': {'tau': (0.05, 1.0, True)},
    'simgcl': {'cl_weight': (0.01, 2.0, True), 'eps': (0.01, 0.5, True)},
    'xsimgcl': {'cl_weight': (0.01, 2.0, True), 'eps': (0.01, 0.5, True)},
    'ngcf': {'message_dropout': (0.0, 0.5, False)},
}

#: Top-K ranking metrics, each computed at every cut-off K as ``'<name>@<K>'``.
METRICS: Tuple[str, ...] = ('recall', 'ndcg', 'hit', 'precision', 'mrr')

#: Orders of each user's history for a split: by time, or at random (the LLMInit authors').
ORDERS: Tuple[str, ...] = ('time', 'random')

#: Training batches: the full graph per step, or PyG's ``LinkNeighborLoader`` subgraphs.
LOADERS: Tuple[str, ...] = ('full', 'neighbor')

#: How early stopping counts patience (see :mod:`pyg_llminit.training.stopping`).
COUNTINGS: Tuple[str, ...] = ('strict', 'recbole', 'smoothed')

#: ``--protocol`` name -> the settings it changes, in the library's names (``train`` holds
#: :class:`~pyg_llminit.training.TrainConfig`'s; options given on the command line or in a
#: config file win). ``'paper'`` is the LLMInit authors' released RecBole configuration
#: (recbole/properties/overall.yaml of their repository): each user's history in random
#: order for leave-one-out (seed 2020), batch 256, d 128, Adam 1e-3, patience counted as
#: RecBole does, and ``repeatable: True``, which in RecBole 1.2.1 selects
#: ``RepeatableSampler``: negatives exclude only the triplet's positive and full-ranking
#: evaluation masks nothing; their dataset config's ``normalize_all: True`` min-max
#: normalises the LLM vectors. The early-stopping warm-up stays (``--warmup 0`` for none).
PROTOCOLS: Dict[str, Dict[str, object]] = {
    'default': {},
    'paper': {'order': 'random', 'embedding_dim': 128, 'normalize': 'minmax', 'min_rating': 4.0,
              'train': {'batch_size': 256, 'lr': 1e-3, 'stopping': 'recbole',
                        'negatives': 'positive', 'mask_seen': False}},
}

#: The held-out splits a model is evaluated on.
EVAL_SPLITS: Tuple[str, ...] = ('valid', 'test')

#: ``--graph`` name -> ``(loader kind, its argument)``: the embedded Beauty graph, a category
#: of the 2014 Amazon release, or a MovieLens variant.
GRAPHS: Dict[str, Tuple[str, Optional[str]]] = {
    'amazon': ('embedded-beauty', None),
    'toys-and-games': ('amazon-2014', 'Toys_and_Games'),
    'tools-and-home-improvement': ('amazon-2014', 'Tools_and_Home_Improvement'),
    'office-products': ('amazon-2014', 'Office_Products'),
    'movielens-100k': ('movielens', '100k'),
    'movielens-1m': ('movielens', '1m'),
}
GRAPH_ALIASES: Dict[str, str] = {
    'amazon-beauty': 'amazon', 'beauty': 'amazon', 'ml-100k': 'movielens-100k',
    'ml-1m': 'movielens-1m', 'toys': 'toys-and-games', 'tools': 'tools-and-home-improvement',
    'office': 'office-products'}
#: ``amazon-2014:<Category>`` names any category of the 2014 Amazon release.
AMAZON_2014 = 'amazon-2014'

GRAPH_HELP = ("Graph: 'amazon' (embedded Amazon Beauty 2014 5-core), "
              + ', '.join(f"'{name}'" for name, (kind, _) in GRAPHS.items()
                          if kind == AMAZON_2014)
              + f", '{AMAZON_2014}:<Category>', 'ml-100k', 'ml-1m', or a path to RecBole "
              "atomic files / a CSV folder.")

__all__ = ['MODELS', 'STRATEGIES', 'NORMALIZATIONS', 'INITS', 'METRICS', 'ORDERS', 'LOADERS',
           'PROTOCOLS', 'EVAL_SPLITS', 'GRAPHS', 'GRAPH_ALIASES', 'AMAZON_2014', 'GRAPH_HELP']
