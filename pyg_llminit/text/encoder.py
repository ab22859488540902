"""Item text -> vectors with any Hugging Face language model: step 1 of LLMInit.

LLMInit (Zhang et al., "LLMInit: A Free Lunch from Large Language Models for Selective
Initialization of Recommendation", arXiv 2503.01814) encodes each item's text once with a
pretrained language model into a matrix ``E`` of shape ``[num_items, d_LLM]``; a slice of its
columns then initialises the CF model. :class:`TextEncoder` produces ``E`` from any
``transformers`` encoder (BERT-like) or decoder (Llama-like) model, with a choice of
pooling and hidden layer. Named offline models are in :mod:`pyg_llminit.text.presets`.
"""
import contextlib
import functools
import hashlib
import inspect
import json
import os
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor
from tqdm.auto import tqdm

from ..console import progress_disabled
from ..devices import resolve_device
from ..errors import UserInputError, first_line

POOLINGS = ('mean', 'last', 'cls')
# Files of a model folder that can change its vectors (weights, config, tokenizer).
_MODEL_FILE_SUFFIXES = ('.json', '.txt', '.model', '.safetensors', '.bin', '.gguf',
                        '.tiktoken', '.py')
_FILE_HASHES: Dict[Tuple[str, int, int], str] = {}


def file_sha256(path: Path) -> str:
    r"""SHA-256 of a file, memoised per ``(path, size, mtime)`` within the process."""
    st = path.stat()
    memo_key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if memo_key not in _FILE_HASHES:
        h = hashlib.sha256()
        with open(path, 'rb') as f:
            for block in iter(lambda: f.read(1 << 20), b''):
                h.update(block)
        _FILE_HASHES[memo_key] = h.hexdigest()
    return _FILE_HASHES[memo_key]


def verbose() -> bool:
    r"""Whether third-party libraries may print their own progress bars and warnings:
    ``PYG_LLMINIT_VERBOSE`` set to anything but ``''`` / ``0`` (the CLI's ``--verbose``)."""
    return os.environ.get('PYG_LLMINIT_VERBOSE', '') not in ('', '0')


@contextlib.contextmanager
def quiet_hugging_face() -> Iterator[None]:
    r"""Within the block, ``transformers`` and ``huggingface_hub`` print no progress bars
    (``Loading weights``, downloads) and only errors, unless :func:`verbose`; the previous
    state is restored afterwards. The package's own bars are not affected."""
    if verbose():
        yield
        return
    import huggingface_hub.utils as hub
    from transformers.utils import logging as hf_logging
    bars, hub_bars = hf_logging.is_progress_bar_enabled(), not hub.are_progress_bars_disabled()
    level = hf_logging.get_verbosity()
    hf_logging.disable_progress_bar()
    hub.disable_progress_bars()
    hf_logging.set_verbosity_error()
    # GGUF loading draws a plain tqdm bar that transformers' switch does not reach
    import transformers.modeling_gguf_pytorch_utils as gguf_loading
    gguf_bar = gguf_loading.tqdm
    gguf_loading.tqdm = functools.partial(gguf_bar, disable=True)
    try:
        yield
    finally:
        gguf_loading.tqdm = gguf_bar
        hf_logging.set_verbosity(level)
        if bars:
            hf_logging.enable_progress_bar()
        if hub_bars:
            hub.enable_progress_bars()


def pool(hidden: Tensor, attention_mask: Tensor, pooling: str) -> Tensor:
    r"""Pools token states into one vector per text.

    Args:
        hidden (Tensor): Token states, shape ``[B, L, d]``.
        attention_mask (Tensor): ``1`` for real tokens, ``0`` for padding, shape ``[B, L]``;
            padding may be on either side.
        pooling (str): ``'mean'`` (mean over real tokens), ``'last'`` (last real token, what
            a causal decoder has read the whole text at) or ``'cls'`` (first real token).

    Returns:
        Tensor of shape ``[B, d]``. A row without any real token gives zeros (``mean``).
    """
    valid = attention_mask.bool()
    if pooling == 'mean':
        m = valid.to(hidden.dtype).unsqueeze(-1)
        return (hidden * m).sum(1) / m.sum(1).clamp(min=1)
    pos = torch.arange(hidden.size(1), device=hidden.device).expand_as(valid)
    if pooling == 'last':
        idx = torch.where(valid, pos, -1).amax(1).clamp(min=0)
    elif pooling == 'cls':
        idx = torch.where(valid, pos, hidden.size(1)).amin(1).clamp(max=hidden.size(1) - 1)
    else:
        raise UserInputError(f"unknown pooling '{pooling}' (choose from {', '.join(POOLINGS)})")
    return hidden[torch.arange(hidden.size(0), device=hidden.device), idx]


class TextEncoder:
    r"""Encodes texts with a Hugging Face model (``AutoTokenizer`` + ``AutoModel``) into
    one vector per text: the item matrix ``E`` of LLMInit (arXiv 2503.01814, step 1).

    The model is loaded lazily, at the first :meth:`encode` (the configuration is read at
    once, so a wrong name fails early, and an embedding-cache hit never loads weights).
    Texts are tokenised, sorted by token length so that batches carry little padding, run
    under :func:`torch.inference_mode`, pooled, and put back in their original order. A
    decoder tokenizer without a pad token pads with its eos token; padding is on the right
    (so a decoder's position ids are those of the unpadded text).

    Args:
        model (str): A Hugging Face model id (``org/name``) or a local model folder.
        pooling (str): ``'mean'``, ``'last'`` (last non-padding token) or ``'cls'`` (first
            token). (default: :obj:`'mean'`)
        layer (int): Hidden state to pool: ``0`` is the embedding output, ``k`` the output
            of block ``k``, negative values count from the end. (default: :obj:`-1`)
        max_length (int): Tokens kept per text. (default: :obj:`64`)
        batch_size (int): Texts per forward pass. (default: :obj:`32`)
        device (str): Where the model runs: ``'cpu'``, ``'cuda'``, ``'cuda:1'`` or
            ``'auto'`` (a GPU when there is one). The vectors do not depend on it beyond
            floating-point rounding, so it is not part of :attr:`identity`.
            (default: :obj:`'auto'`)
        dtype (torch.dtype): Weights' dtype; outputs are always float32.
        normalize (bool): L2-normalise each vector. (default: :obj:`False`)
        trust_remote_code (bool): Passed to ``transformers``. (default: :obj:`False`)
        gguf_file (str, optional): A GGUF file inside :obj:`model` to load from.
        name (str, optional): Display name, also used in :attr:`identity` (presets).

    Shapes:
        - encode: ``n`` texts -> ``[n, dim]`` float32 on CPU
    """
    def __init__(self, model: str, pooling: str = 'mean', layer: int = -1,
                 max_length: int = 64, batch_size: int = 32, device: str = 'auto',
                 dtype: torch.dtype = torch.float32, normalize: bool = False,
                 trust_remote_code: bool = False, gguf_file: Optional[str] = None,
                 name: Optional[str] = None) -> None:
        if pooling not in POOLINGS:
            raise UserInputError(
                f"unknown pooling '{pooling}' (choose from {', '.join(POOLINGS)})")
        if max_length < 1 or batch_size < 1:
            raise UserInputError('max_length and batch_size must be at least 1')
        self.source = str(model)
        self.name = name or self.source
        self.pooling, self.max_length, self.batch_size = pooling, int(max_length), int(batch_size)
        self.device = str(resolve_device(str(device)))
        self.dtype, self.normalize = dtype, bool(normalize)
        self.trust_remote_code, self.gguf_file = trust_remote_code, gguf_file
        path = Path(self.source).expanduser()
        self.local = path.exists()
        if self.local:
            self.source = str(path)
        elif self.source.startswith(('.', '/', '~')):
            raise UserInputError(f"text model folder '{model}' does not exist")
        self.config = self._load('configuration', 'AutoConfig')
        text_config = getattr(self.config, 'get_text_config', lambda: self.config)()
        dim = getattr(text_config, 'hidden_size', None) or getattr(text_config, 'd_model', None)
        if not isinstance(dim, int):
            raise UserInputError(f"text model '{self.name}': its config gives no hidden size")
        self._dim = dim
        self.num_layers: Optional[int] = getattr(text_config, 'num_hidden_layers', None)
        self.layer = int(layer)
        if self.num_layers is not None:
            n = self.num_layers
            if not -(n + 1) <= self.layer <= n:
                raise UserInputError(f"text model '{self.name}' has hidden states 0..{n}; "
                                     f'layer {layer} is out of range')
            self.layer %= n + 1  # canonical: -1 and n are the same layer
        self._model: Any = None
        self._tokenizer: Any = None
        self._identity: Optional[Dict[str, Any]] = None

    def _load(self, what: str, auto: str, **kwargs: Any) -> Any:
        import transformers
        kwargs = dict(trust_remote_code=self.trust_remote_code, **kwargs)
        if self.gguf_file:
            kwargs['gguf_file'] = self.gguf_file
        try:
            with quiet_hugging_face():
                return getattr(transformers, auto).from_pretrained(self.source, **kwargs)
        except Exception as err:  # any loading problem is the user's model choice
            raise UserInputError(f"could not load the {what} of text model '{self.name}' "
                                 f'({first_line(err, typed=True)})') from err

    @property
    def tokenizer(self) -> Any:
        r"""The ``transformers`` tokenizer (loaded on first use), padding on the right."""
        if self._tokenizer is None:
            tok = self._load('tokenizer', 'AutoTokenizer')
            if tok.pad_token is None:
                if tok.eos_token is None:
                    raise UserInputError(
                        f"text model '{self.name}': its tokenizer has no pad or eos token")
                tok.pad_token = tok.eos_token
            tok.padding_side = 'right'
            self._tokenizer = tok
        return self._tokenizer

    @property
    def model(self) -> Any:
        r"""The ``transformers`` model in eval mode on :obj:`device` (loaded on first use);
        the encoder stack of an encoder-decoder model."""
        if self._model is None:
            import transformers
            from packaging.version import Version
            new = Version(transformers.__version__) >= Version('4.56')
            model = self._load('weights', 'AutoModel', **{
                'dtype' if new else 'torch_dtype': self.dtype})
            if getattr(model.config, 'is_encoder_decoder', False):
                model = model.get_encoder()
            try:
                self._model = model.eval().to(self.device)
            except (RuntimeError, MemoryError) as err:  # e.g. CUDA out of memory
                raise UserInputError(f"text model '{self.name}' cannot run on {self.device} "
                                     f'({first_line(err, typed=True)}); choose another '
                                     'device') from err
            self._inputs = set(inspect.signature(self._model.forward).parameters)
        return self._model

    @property
    def dim(self) -> int:
        r"""Size ``d`` of each vector."""
        return self._dim

    @property
    def identity(self) -> Dict[str, Any]:
        r"""Everything that changes the vectors (not batch size or device): model name,
        content hash of a local model's files (or the hub revision), pooling, layer,
        max_length, normalize and dtype. Embedding caches are keyed by it."""
        if self._identity is None:
            ident: Dict[str, Any] = {'model': self.name}
            if self.local:
                root = Path(self.source)
                files = ([root / self.gguf_file] if self.gguf_file else sorted(
                    p for p in root.iterdir() if p.is_file()
                    and p.name.endswith(_MODEL_FILE_SUFFIXES))) if root.is_dir() else [root]
                ident['files'] = hashlib.sha256(json.dumps(
                    [[p.name, file_sha256(p)] for p in files]).encode()).hexdigest()
            else:
                ident['revision'] = getattr(self.config, '_commit_hash', None)
                if not ident['revision']:
                    cfg = self.config.to_dict()
                    cfg.pop('transformers_version', None)
                    ident['config'] = hashlib.sha256(
                        json.dumps(cfg, sort_keys=True, default=str).encode()).hexdigest()
            ident.update(pooling=self.pooling, layer=self.layer, max_length=self.max_length,
                         normalize=self.normalize, dtype=str(self.dtype).replace('torch.', ''))
            self._identity = ident
        return dict(self._identity)

    def encode(self, texts: Sequence[str], progress: bool = True) -> Tensor:
        r"""Encodes :obj:`texts` into a ``[n, dim]`` float32 CPU tensor, row ``i`` for
        ``texts[i]``. A text with no token at all (possible with a decoder tokenizer that
        adds no BOS, for an empty string) gets a zero vector.

        Args:
            texts (List[str]): The texts.
            progress (bool): Show a tqdm bar (hidden when stderr is not a terminal).
        """
        if isinstance(texts, str):
            raise UserInputError('encode() takes a list of texts, not one string')
        texts = [str(t) for t in texts]
        out = torch.zeros(len(texts), self.dim, dtype=torch.float32)
        if not texts:
            return out
        tok = self.tokenizer
        lengths = [len(ids) for ids in
                   tok(texts, truncation=True, max_length=self.max_length)['input_ids']]
        # Longest first: the memory peak comes at once, padding stays small throughout.
        order = sorted((i for i in range(len(texts)) if lengths[i] > 0),
                       key=lambda i: -lengths[i])
        model = self.model
        bar = tqdm(total=len(texts), disable=progress_disabled(progress), unit='text',
                   desc=f'encoding with {self.name}')
        with bar, torch.inference_mode():
            bar.update(len(texts) - len(order))
            for start in range(0, len(order), self.batch_size):
                idx = order[start:start + self.batch_size]
                batch = tok([texts[i] for i in idx], padding=True, truncation=True,
                            max_length=self.max_length, return_tensors='pt')
                out[torch.tensor(idx)] = self._forward(model, batch)
                bar.update(len(idx))
        return out

    def _forward(self, model: Any, batch: Any) -> Tensor:
        inputs = {k: v.to(self.device) for k, v in batch.items()
                  if k in self._inputs or k in ('input_ids', 'attention_mask')}
        last = self.num_layers is None and self.layer == -1 or self.layer == self.num_layers
        output = model(**inputs, output_hidden_states=not last, return_dict=True)
        hidden = output.last_hidden_state if last else output.hidden_states[self.layer]
        vec = pool(hidden.float(), inputs['attention_mask'], self.pooling)
        if self.normalize:
            vec = F.normalize(vec, dim=-1)
        return vec.cpu()

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(model='{self.name}', dim={self.dim}, "
                f"pooling='{self.pooling}', layer={self.layer}, max_length={self.max_length}, "
                f'normalize={self.normalize}, device={self.device!r})')


__all__: List[str] = ['TextEncoder', 'pool', 'POOLINGS', 'file_sha256', 'quiet_hugging_face',
                       'verbose']
