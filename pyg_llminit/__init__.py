"""pyg-llminit: LLMInit (arXiv 2503.01814) for PyTorch Geometric recommenders."""
__version__ = '0.1.0'
