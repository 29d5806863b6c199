# Sourced by bench/run.sh and bench/soak.sh: the toolchain scripts/test.sh
# installs, on PATH, and a check that each tool a bench needs is there.
#   bench_prelude NAME TOOL...   sets ROOT and PY, cds to ROOT, or exits 1 naming what is missing
bench_prelude() {
  local name="$1"
  shift
  ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  cd "$ROOT"
  export PATH="$ROOT/node_modules/.bin:$HOME/.cargo/bin:$PATH"
  export TRUNK_OFFLINE=true
  PY="$ROOT/.tools/venv/bin/python"
  if [ ! -x "$PY" ]; then
    echo "$name: $PY is missing; run scripts/test.sh once to create the Python environment" >&2
    exit 1
  fi
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || { echo "$name: $tool is missing (scripts/test.sh installs the toolchain)" >&2; exit 1; }
  done
}
