"""One config for a whole experiment, in the library's names: graph, split, backbone,
initialisation and training. A run folder's ``config.json`` is its :meth:`to_dict`."""
import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Dict, Optional, Tuple, Union

from .. import catalog
from ..errors import UserInputError, invalid
from ..training.config import MAX_SEED, TrainConfig, check_types


def check_init_scale(value: Union[None, str, float]) -> Union[None, str, float]:
    r"""``init_scale`` checked: ``None``/``'none'`` -> ``None``, ``'xavier'``, or a
    positive finite number."""
    if value is None or value == 'none' or value == 'xavier':
        return None if value in (None, 'none') else value
    try:
        scale = float(value)
    except (TypeError, ValueError):
        raise invalid('init_scale', f"takes 'none', 'xavier' or a number, got '{value}'") \
            from None
    if not (math.isfinite(scale) and scale > 0):
        raise invalid('init_scale', f'must be a positive number, got {value}')
    return scale


@dataclass
class ExperimentConfig:
    r"""Everything a run depends on (besides the machine and cache folders).

    Args:
        graph (str): Graph name or path (see :func:`~pyg_llminit.datasets.load_graph`).
        min_rating (float, optional), k_core (int, optional): Interaction filters
            (``None``: the graph's defaults).
        split (str): ``'loo'`` (leave-one-out), ratios such as ``'0.8,0.1,0.1'``, or
            ``'cold-items:0.1'`` (a share of the items held out, see
            :class:`~pyg_llminit.transforms.split.ColdItemSplit`).
        order (str): Order of each user's history for the split, ``'time'`` or ``'random'``.
        split_seed (int, optional): Seed of a random-order split (default: ``train.seed``).
        model (str): Backbone (see :data:`pyg_llminit.catalog.MODELS`).
        embedding_dim (int), num_layers (int), reg_weight (float): The backbone's size,
            propagation depth and L2 weight.
        model_options (dict): The backbone's other hyper-parameters (e.g. ``ssl_weight``).
        init (str): ``'none'`` (the backbone's own) or an LLMInit strategy.
        encoder (str): Text model for :obj:`init`: a preset, a folder or a hub id.
        encoder_device (str): Where the text model runs: ``'auto'`` (a GPU when there is
            one), ``'cpu'``, ``'cuda'``, ``'cuda:1'``.
        text_fields (str): Comma-separated item text fields.
        text_template (str, optional): Item text as a format string (overrides fields).
        popular_ratio (float): Share of most popular items for ``init='variance'``.
        init_scale (str): ``'none'``, ``'xavier'`` or a target std of the LLMInit features.
        normalize (str): ``'none'`` or ``'minmax'``: the item text embedding min-max
            normalised over all its values before LLMInit (the authors' code does).
        embedding_file (str, optional): Item vectors made elsewhere, used as the text
            embedding instead of encoding with :obj:`encoder` (see
            :mod:`pyg_llminit.text.external`).
        cold_map (str): With a cold-item split (``split='cold-items:0.1'``), how new items
            are scored: ``'ridge'`` or ``'mlp'`` (see :mod:`pyg_llminit.coldstart`).
        train (TrainConfig): Optimisation and evaluation settings.
    """
    graph: str = 'amazon'
    min_rating: Optional[float] = None
    k_core: Optional[int] = None
    split: str = 'loo'
    order: str = 'time'
    split_seed: Optional[int] = None
    model: str = 'lightgcn'
    embedding_dim: int = 128
    num_layers: int = 2
    reg_weight: float = 1e-5
    model_options: Dict[str, Any] = field(default_factory=dict)
    init: str = 'none'
    encoder: str = 'minilm'
    encoder_device: str = 'auto'
    text_fields: str = 'title'
    text_template: Optional[str] = None
    popular_ratio: float = 0.2
    init_scale: str = 'none'
    normalize: str = 'none'
    embedding_file: Optional[str] = None
    cold_map: str = 'ridge'
    train: TrainConfig = field(default_factory=TrainConfig)

    def __post_init__(self) -> None:
        if isinstance(self.train, dict):
            self.train = TrainConfig(**self.train)
        check_types(self)
        self.check()

    def check(self) -> None:
        r"""What can be checked before any data is loaded or text encoded."""
        if self.model not in catalog.MODELS:
            raise invalid('model', f"'{self.model}' is unknown (choose from "
                          f"{', '.join(catalog.MODELS)})")
        if self.init not in catalog.INITS:
            raise invalid('init', f"'{self.init}' is unknown (choose from "
                          f"{', '.join(catalog.INITS)})")
        from ..transforms.split import parse_split
        parse_split(self.split, order=self.order)  # a malformed split or order fails here
        for name, low in (('embedding_dim', 1), ('num_layers', 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise invalid(name, f'must be an integer of at least {low}, got {value!r}')
        for name in ('reg_weight', 'popular_ratio'):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or \
                    not math.isfinite(value) or value < 0:
                raise invalid(name, f'must be a finite number >= 0, got {value!r}')
        if self.split_seed is not None and not 0 <= self.split_seed <= MAX_SEED:
            raise invalid('split_seed', f'must lie in 0..{MAX_SEED}, got {self.split_seed}')
        if not 0 < self.popular_ratio <= 1:  # here: before any text is encoded
            raise invalid('popular_ratio', f'must be in (0, 1], got {self.popular_ratio}')
        check_init_scale(self.init_scale)
        if self.normalize not in catalog.NORMALIZATIONS:
            raise invalid('normalize', f"'{self.normalize}' is unknown (choose from "
                          f"{', '.join(catalog.NORMALIZATIONS)})")
        from ..coldstart.maps import MAPS
        if self.cold_map not in MAPS:
            raise invalid('cold_map', f"must be one of {', '.join(MAPS)}, got "
                          f"'{self.cold_map}'")
        if self.embedding_file is not None:
            from ..text.external import SUFFIXES
            if not self.uses_text:
                raise invalid('embedding_file', "is used by LLMInit and cold-item splits "
                              "only: give an --init other than 'none', or drop it")
            if not str(self.embedding_file).endswith(SUFFIXES):
                raise invalid('embedding_file', f"{self.embedding_file}: unknown format "
                              f"(use one of {', '.join(SUFFIXES)})")
        self.check_model_options()

    def check_model_options(self) -> None:
        r"""The backbone's hyper-parameters, checked by the backbone's own constructor on
        a one-user, one-item graph (a few kilobytes), so that a bad option fails before
        the graph is loaded or any text is encoded."""
        from ..models import build_model
        narrow = min(self.embedding_dim, 8)  # the width is checked against memory later
        build_model(self.model, 1, 1, **{**self.model_kwargs(), 'embedding_dim': narrow})

    def model_kwargs(self) -> Dict[str, Any]:
        r"""Keyword arguments of :func:`~pyg_llminit.models.build_model`."""
        return dict(embedding_dim=self.embedding_dim, num_layers=self.num_layers,
                    reg_weight=self.reg_weight, **self.model_options)

    def check_devices(self) -> None:
        r"""The training device and (when the item texts are encoded) the text model's
        device exist on this machine: checked before any data is loaded, not when a
        recorded config is read (a run may be evaluated on another machine)."""
        from ..devices import resolve_device
        resolve_device(self.train.device, 'device')
        if self.uses_text and self.embedding_file is None:
            resolve_device(self.encoder_device, 'encoder_device')

    @property
    def uses_text(self) -> bool:
        r"""Whether the item texts are needed: for LLMInit, and to score new items."""
        return self.init != 'none' or self.cold_items

    @property
    def cold_items(self) -> bool:
        r"""Whether the split holds out whole items (``'cold-items:RATIO'``)."""
        return self.split == 'cold-items' or self.split.startswith('cold-items:')

    def with_absolute_paths(self) -> 'ExperimentConfig':
        r"""This config with a graph, embedding file or text model given as a relative
        path made absolute, so that the run folder recording it reads from any folder
        (names of built-in graphs and text-model presets stay as they are)."""
        import dataclasses
        from pathlib import Path

        from ..datasets.registry import is_builtin_graph
        from ..text.presets import PRESETS
        local = {'graph': not is_builtin_graph(self.graph),
                 'embedding_file': self.embedding_file is not None,
                 'encoder': self.encoder.lower() not in PRESETS}
        changes = {name: str(Path(getattr(self, name)).expanduser().absolute())
                   for name, is_path in local.items()
                   if is_path and Path(getattr(self, name)).expanduser().exists()}
        return dataclasses.replace(self, **changes) if changes else self

    def to_dict(self) -> Dict[str, Any]:
        r"""A JSON-ready dict (tuples as lists)."""
        def plain(value: Any) -> Any:
            if isinstance(value, (tuple, list)):
                return [plain(v) for v in value]
            if isinstance(value, dict):
                return {k: plain(v) for k, v in value.items()}
            return value
        return plain(asdict(self))

    @classmethod
    def from_dict(cls, values: Dict[str, Any]) -> 'ExperimentConfig':
        r"""The config of a :meth:`to_dict` (e.g. a run folder's ``config.json``)."""
        if not isinstance(values, dict):
            raise UserInputError('an experiment config must be a mapping of names to values')
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise UserInputError(f"unknown experiment setting '{unknown[0]}' (known: "
                                 f"{', '.join(sorted(known))})")
        train = dict(values.get('train') or {})
        train_known = {f.name for f in fields(TrainConfig)}
        if set(train) - train_known:
            raise UserInputError(f"unknown training setting "
                                 f"'{sorted(set(train) - train_known)[0]}'")
        return cls(**{**values, 'train': TrainConfig(**train)})


def from_flat_config(values: Dict[str, Any]) -> Dict[str, Any]:
    r"""The ``config.json`` of runs made before :class:`ExperimentConfig` (one flat dict in
    the command line's names) in today's form, so those runs still load."""
    renamed = {'dim': 'embedding_dim', 'layers': 'num_layers', 'reg': 'reg_weight'}
    experiment = {f.name for f in fields(ExperimentConfig)}
    train = {f.name for f in fields(TrainConfig)}
    out: Dict[str, Any] = {'train': {}}
    for key, value in values.items():
        key = renamed.get(key, key)
        if key in train:
            out['train'][key] = value
        elif key in experiment:
            out[key] = value  # other keys (world_size, out) described the run, not its setup
    if out.get('encoder') is None:
        out.pop('encoder', None)
    return out


def apply_protocol(config: ExperimentConfig, name: str) -> ExperimentConfig:
    r""":obj:`config` with the settings of protocol :obj:`name` (see
    :data:`pyg_llminit.catalog.PROTOCOLS`; ``'paper'``: the LLMInit authors' RecBole
    setting; its rating filter is left out, with a warning, on a graph without ratings)."""
    import dataclasses
    import warnings
    if name not in catalog.PROTOCOLS:
        raise invalid('protocol', f"'{name}' is unknown (choose from "
                      f"{', '.join(catalog.PROTOCOLS)})")
    preset = dict(catalog.PROTOCOLS[name])
    train = dataclasses.replace(config.train, **preset.pop('train', {}))
    if 'min_rating' in preset:
        preset['min_rating'], note = preset_rating_filter(config.graph, preset['min_rating'])
        if note:
            warnings.warn(note, stacklevel=2)
    return dataclasses.replace(config, train=train, **preset)


def preset_rating_filter(graph: str, min_rating: Optional[float]
                         ) -> Tuple[Optional[float], Optional[str]]:
    r"""A preset's rating filter (``--protocol paper``: ratings >= 4 before the k-core, as
    the authors filter) for :obj:`graph`: kept where the graph has ratings, else ``None``
    and a note saying why (the embedded Beauty holds none)."""
    from ..datasets.registry import graph_has_ratings, is_builtin_graph
    if min_rating is None or graph_has_ratings(graph):
        return min_rating, None
    why = ('a 5-core of reviews without their stars' if is_builtin_graph(graph)
           else 'no rating column')
    return None, (f'note: the preset keeps ratings >= {min_rating:g} before the k-core where '
                  f'a graph has ratings; {graph} holds none ({why}), so every interaction '
                  'is kept')


__all__ = ['ExperimentConfig', 'apply_protocol', 'check_init_scale', 'from_flat_config',
           'preset_rating_filter']
