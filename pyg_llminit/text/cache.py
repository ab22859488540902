"""On-disk cache of item text embeddings, so that encoding (minutes) is never repeated.

Encoding the item texts is the expensive step of LLMInit (arXiv 2503.01814): a forward
pass of the language model per item (timings in benchmarks/). The matrix ``E`` of shape
``[num_items, d]`` is stored once per key, the SHA-256 of (encoder identity, text recipe,
SHA-256 of the texts in order), as ``<root>/<key>.safetensors`` (``torch.save`` when
safetensors is missing) with the key and shape in its metadata. A file that fails
verification (unreadable, truncated, other key or shape, non-finite values) is logged,
deleted and rebuilt, never used. Large catalogues are encoded in chunks, each saved
atomically in ``<root>/<key>.parts/``, so an interrupted run resumes at the first missing
chunk; once all exist they are merged into the final file and the parts removed.
"""
import hashlib
import json
import logging
import shutil
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from ..errors import DataError, StorageError, UserInputError, first_line
from ..io import PathLike, atomic_path, file_lock, load_torch
from ..io import pyg_llminit_home
from .encoder import TextEncoder
from .presets import DEFAULT_ENCODER, resolve_encoder
from .recipe import Fields, item_texts, recipe_identity

try:
    from safetensors import safe_open
    from safetensors.torch import save_file
except ImportError:  # pragma: no cover - safetensors comes with transformers
    safe_open = save_file = None

log = logging.getLogger(__name__)
FORMAT = 'pyg-llminit-embeddings/1'
SUFFIX = '.safetensors' if save_file is not None else '.pt'


def texts_sha256(texts: Sequence[str]) -> str:
    r"""SHA-256 of the texts in order (length-prefixed, so boundaries count)."""
    h = hashlib.sha256()
    for text in texts:
        raw = text.encode('utf-8')
        h.update(len(raw).to_bytes(8, 'little'))
        h.update(raw)
    return h.hexdigest()


def cache_key(identity: Dict[str, Any], recipe: str, texts: Sequence[str]) -> str:
    r"""The cache key: SHA-256 of (encoder identity, recipe identity, texts hash)."""
    payload = json.dumps({'encoder': identity, 'recipe': recipe,
                          'texts': texts_sha256(texts)}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def _write(path: Path, tensor: Tensor, meta: Dict[str, str]) -> None:
    try:
        with atomic_path(path) as tmp:
            if save_file is not None:
                save_file({'embeddings': tensor.contiguous()}, str(tmp), metadata=meta)
            else:  # pragma: no cover
                torch.save({'embeddings': tensor, 'metadata': meta}, tmp)
    except OSError as err:
        raise StorageError(f'cannot write the embedding cache {path}: '
                           f'{err.strerror or err}') from err


def _read(path: Path) -> Tuple[Tensor, Dict[str, str]]:
    if save_file is not None:
        with safe_open(str(path), framework='pt') as f:
            return f.get_tensor('embeddings'), dict(f.metadata() or {})
    obj = load_torch(path)  # pragma: no cover
    return obj['embeddings'], obj['metadata']  # pragma: no cover


class EmbeddingCache:
    r"""A folder of item embedding matrices keyed by :func:`cache_key`.

    Args:
        root (str, optional): The folder (default: ``$PYG_LLMINIT_HOME/embeddings``).
    """
    def __init__(self, root: Optional[PathLike] = None) -> None:
        self.root = Path(root if root is not None else pyg_llminit_home() / 'embeddings')
        self.root = self.root.expanduser()

    def path(self, key: str) -> Path:
        r"""The final file of :obj:`key`."""
        return self.root / f'{key}{SUFFIX}'

    def parts_dir(self, key: str) -> Path:
        r"""The folder holding the chunk files of :obj:`key` while it is being encoded."""
        return self.root / f'{key}.parts'

    def load(self, key: str, shape: Tuple[int, int], path: Optional[Path] = None
             ) -> Optional[Tensor]:
        r"""The verified tensor of :obj:`key` (``[n, d]`` float32, finite), or ``None``
        when absent. A file that fails verification is logged, deleted and ``None``
        returned."""
        path = path or self.path(key)
        if not path.exists():
            return None
        try:
            tensor, meta = _read(path)
            problem = None
            if meta.get('key') != key or meta.get('format') != FORMAT:
                problem = 'written for another key'
            elif tuple(tensor.shape) != tuple(shape) or tensor.dtype != torch.float32:
                problem = f'shape {tuple(tensor.shape)} instead of {tuple(shape)}'
            elif not bool(torch.isfinite(tensor).all()):
                problem = 'non-finite values'
        except Exception as err:  # truncated or garbage file: any reader error
            problem = f'unreadable: {type(err).__name__}'
        if problem is None:
            return tensor
        log.warning('embedding cache %s is invalid (%s): deleted, encoding again', path, problem)
        path.unlink(missing_ok=True)
        return None

    def save(self, key: str, tensor: Tensor, path: Optional[Path] = None, **meta: Any) -> None:
        r"""Writes :obj:`tensor` for :obj:`key` atomically (write, then rename)."""
        info = {'format': FORMAT, 'key': key, 'shape': ','.join(map(str, tensor.shape))}
        info.update({k: str(v) for k, v in meta.items()})
        _write(path or self.path(key), tensor, info)

    def get_or_encode(self, texts: Sequence[str], encoder: TextEncoder, recipe: str = '',
                      chunk_size: int = 2048, progress: bool = True) -> Tensor:
        r"""The embeddings of :obj:`texts` from the cache, or encoded (by chunks of
        :obj:`chunk_size` texts, resumable) and cached.

        Returns:
            Tensor of shape ``[len(texts), encoder.dim]``, float32.
        """
        if chunk_size < 1:
            raise UserInputError('chunk_size must be at least 1')
        texts = list(texts)
        identity = encoder.identity
        key = cache_key(identity, recipe, texts)
        meta = dict(encoder=json.dumps(identity, sort_keys=True), recipe=recipe)
        # one process encodes an entry; another one asking for it waits, then reads it
        with file_lock(self.path(key).parent / '.locks' / f'{key}.lock'):
            return self._get_or_encode(texts, encoder, key, meta, chunk_size, progress)

    def _get_or_encode(self, texts: List[str], encoder: TextEncoder, key: str,
                       meta: Dict[str, str], chunk_size: int, progress: bool) -> Tensor:
        num, dim = len(texts), encoder.dim
        cached = self.load(key, (num, dim))
        if cached is not None:
            log.info('item embeddings from cache %s', self.path(key))
            return cached
        if num <= chunk_size:
            emb = self._encode(encoder, texts, progress)
        else:
            parts = self.parts_dir(key)
            chunks = []
            for start in range(0, num, chunk_size):
                stop = min(num, start + chunk_size)
                part = parts / f'part-{start:09d}-{stop:09d}{SUFFIX}'
                chunk = self.load(key, (stop - start, dim), part)
                if chunk is None:
                    log.info('encoding items %d..%d of %d', start, stop, num)
                    chunk = self._encode(encoder, texts[start:stop], progress)
                    self.save(key, chunk, part, start=start, stop=stop, **meta)
                chunks.append(chunk)
            emb = torch.cat(chunks)
        self.save(key, emb, **meta)
        shutil.rmtree(self.parts_dir(key), ignore_errors=True)
        return emb

    @staticmethod
    def _encode(encoder: TextEncoder, texts: Sequence[str], progress: bool) -> Tensor:
        emb = encoder.encode(list(texts), progress=progress).float().cpu()
        if tuple(emb.shape) != (len(texts), encoder.dim):
            raise RuntimeError(f'{encoder!r} returned shape {tuple(emb.shape)} for '
                               f'{len(texts)} texts')
        if not bool(torch.isfinite(emb).all()):
            raise DataError(f"text model '{encoder.name}' produced non-finite vectors "
                            '(with dtype float16/bfloat16, try float32)')
        return emb

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(root='{self.root}')"


def encode_items(data: HeteroData, encoder: Union[str, TextEncoder] = DEFAULT_ENCODER,
                 fields: Fields = ('title',), template: Optional[str] = None,
                 cache_dir: Optional[PathLike] = None, chunk_size: int = 2048,
                 progress: bool = True, device: Optional[str] = None,
                 node_type: str = 'item') -> Tensor:
    r"""The item text embedding matrix ``E`` of LLMInit (arXiv 2503.01814, step 1), cached.

    Args:
        data (HeteroData): A graph with item text on ``data[node_type]``.
        encoder (str or TextEncoder): An encoder, or a name for
            :func:`~pyg_llminit.text.presets.resolve_encoder`. (default: :obj:`'minilm'`)
        fields, template: The text recipe (see :func:`~pyg_llminit.text.recipe.item_texts`).
        cache_dir (str, optional): Cache folder (default: ``$PYG_LLMINIT_HOME/embeddings``).
        chunk_size (int): Items per resumable chunk. (default: :obj:`2048`)
        progress (bool): Show progress bars. (default: :obj:`True`)
        device (str, optional): Where a named encoder runs (``'auto'``: a GPU when there
            is one; default: the preset's, ``'auto'``). Not for a built encoder.
        node_type (str): The items' node type, e.g. ``'movie'``. (default: :obj:`'item'`)

    Returns:
        Tensor of shape ``[num_items, d]``, float32, row ``i`` for item ``i``.
    """
    texts = item_texts(data, fields, template, node_type)
    encoder = resolve_encoder(encoder, **({} if device is None else {'device': device}))
    return EmbeddingCache(cache_dir).get_or_encode(
        texts, encoder, recipe_identity(fields, template), chunk_size, progress)


def save_embedding(path: PathLike, embedding: Tensor) -> None:
    r"""Writes an item embedding matrix ``[num_items, d]`` to :obj:`path` atomically (the
    cache's format), e.g. to carry it to a machine without the language model."""
    _write(Path(path), embedding.float().cpu(), {'format': FORMAT,
                                                 'shape': json.dumps(list(embedding.shape))})


def load_embedding(path: PathLike, num_items: Optional[int] = None) -> Tensor:
    r"""Reads an item embedding matrix written by :func:`save_embedding` (or any
    safetensors file whose only tensor is ``[num_items, d]``).

    Raises:
        UserInputError: a missing or unreadable file, a tensor that is not 2-D, a row count
            other than :obj:`num_items`, or non-finite values.
    """
    path = Path(path)
    if not path.is_file():
        raise UserInputError(f'embedding file {path} does not exist')
    try:
        if path.suffix == '.pt':
            embedding = load_torch(path)
        else:
            with safe_open(str(path), framework='pt') as f:
                keys = list(f.keys())
                if len(keys) != 1:
                    raise ValueError(f'expected one tensor, found {len(keys)}')
                embedding = f.get_tensor(keys[0])
    except Exception as err:  # noqa: BLE001 - any unreadable file is the same user error
        raise DataError(f'cannot read embedding file {path}: {first_line(err)}') \
            from None
    if not isinstance(embedding, Tensor) or embedding.dim() != 2:
        raise DataError(f'embedding file {path} must hold one 2-D tensor [items, dims]')
    if num_items is not None and embedding.size(0) != num_items:
        raise DataError(f'embedding file {path} has {embedding.size(0)} rows, but the '
                        f'graph has {num_items} items')
    if not torch.isfinite(embedding).all():
        raise DataError(f'embedding file {path} holds NaN or inf values')
    return embedding.float()


__all__ = ['EmbeddingCache', 'encode_items', 'cache_key', 'texts_sha256', 'save_embedding',
           'load_embedding']
