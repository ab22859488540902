#!/usr/bin/env bash
# Regenerates constraints.txt: the exact versions in .venv, after `bin/test` passed there.
#
#   bash scripts/lock.sh            write constraints.txt from .venv
#
# scripts/bootstrap.sh installs with `-c constraints.txt`, so every machine (and CI) gets
# the versions the suite was green with; pyproject.toml keeps compatible ranges for people
# installing into their own environment. To move to newer releases: delete .venv, run
# bootstrap with PYG_LLMINIT_UNLOCKED=1 (ranges only), run bin/test, then this script.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${PYG_LLMINIT_VENV:-$root/.venv}"
out="$root/constraints.txt"
tmp="$(mktemp "$out.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
{
  echo "# The versions the test suite passed with; written by scripts/lock.sh, read by"
  echo "# scripts/bootstrap.sh (pip install -c). Python $("$venv/bin/python" -c 'import platform; print(platform.python_version())'), $(date -u +%Y-%m-%d)."
  "$venv/bin/python" -m pip freeze --all --exclude-editable --disable-pip-version-check \
    | LC_ALL=C sort -f
} > "$tmp"
if grep -q ' @ ' "$tmp"; then
  echo "lock.sh: a package was installed from a path or URL, not a release:" >&2
  grep ' @ ' "$tmp" >&2
  exit 1
fi
mv "$tmp" "$out"
trap - EXIT
echo "wrote $out ($(grep -vc '^#' "$out") packages)" >&2
