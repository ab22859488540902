"""Item text -> language-model embeddings (step 1 of LLMInit, arXiv 2503.01814).

* :class:`TextEncoder` wraps any Hugging Face encoder or decoder model (pooling, layer);
* :func:`resolve_encoder` gives it from a preset (``minilm``, ``smollm2``, ``gemma3-270m``),
  a local folder or a hub id;
* :func:`item_texts` builds each item's text from the graph's text fields;
* :func:`encode_items` returns the ``[num_items, d]`` matrix, cached on disk by
  :class:`EmbeddingCache`.
"""
from .cache import EmbeddingCache, cache_key, encode_items, load_embedding, save_embedding
from .encoder import POOLINGS, TextEncoder, pool
from .presets import DEFAULT_ENCODER, PRESETS, resolve_encoder
from .recipe import item_texts, recipe_identity

__all__ = ['TextEncoder', 'pool', 'POOLINGS', 'resolve_encoder', 'PRESETS',
           'DEFAULT_ENCODER', 'item_texts', 'recipe_identity', 'EmbeddingCache',
           'encode_items', 'cache_key', 'load_embedding', 'save_embedding']
