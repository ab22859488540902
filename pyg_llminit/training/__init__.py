"""Training: the :class:`Trainer`, its batches (full graph or sampled subgraphs), negative
sampling and multi-process data parallelism."""
from .allocator import retain_freed_memory
from .batches import FullGraphBatches, NeighborBatches
from .config import TrainConfig, resolve_device
from .sampling import NegativeSampler
from .trainer import EpochLog, RunWriter, Trainer

__all__ = ['Trainer', 'TrainConfig', 'EpochLog', 'RunWriter', 'resolve_device',
           'FullGraphBatches', 'NeighborBatches', 'NegativeSampler', 'retain_freed_memory']
