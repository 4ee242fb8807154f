#!/usr/bin/env bash
# Install mmshallow with its pinned OpenMMLab stack (README: "Install").
#
#   bash tools/install.sh            # into .venv/ in the repo root (created if missing)
#   bash tools/install.sh --system   # into the active Python environment (conda, your own venv)
#   bash tools/install.sh --deploy   # also mmdeploy + onnxruntime (combinable with --system)
#   bash tools/install.sh --benchmark  # also timm, for tools/benchmark.py's baselines
#   bash tools/install.sh --quickstart # also scikit-learn, for the classification quickstart
#
# mmcv 2.1.0 has no wheel for today's torch, so it is built from its source release with the
# C++ ops (CPU). The built wheel is cached outside the repo, keyed by the mmcv, torch and Python
# versions (pip's own cache is keyed by name+version only and would reuse a wheel built against
# another torch), so only the first run on a machine pays the ~10-15 minute build.
#
# Environment: MMSHALLOW_CACHE (default ${XDG_CACHE_HOME:-~/.cache}/mmshallow),
#              MMSHALLOW_PYTHON (interpreter that creates .venv, default python3),
#              MAX_JOBS (parallel compile jobs for mmcv, default: number of cores).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MMCV_VERSION=2.1.0
USE_VENV=1
WITH_DEPLOY=0
WITH_BENCHMARK=0
WITH_QUICKSTART=0
for arg in "$@"; do
  case "$arg" in
    --system) USE_VENV=0 ;;
    --deploy) WITH_DEPLOY=1 ;;
    --benchmark) WITH_BENCHMARK=1 ;;
    --quickstart) WITH_QUICKSTART=1 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option '$arg' (allowed: --system, --deploy, --benchmark, --quickstart, --help)" >&2; exit 2 ;;
  esac
done

log() { echo "[install] $*"; }

if [ "$USE_VENV" = 1 ]; then
  if [ ! -x "$REPO/.venv/bin/python" ]; then
    log "creating $REPO/.venv"
    "${MMSHALLOW_PYTHON:-python3}" -m venv "$REPO/.venv"
  fi
  PY="$REPO/.venv/bin/python"
else
  PY="$(command -v python || command -v python3)"
fi
log "python: $PY ($("$PY" --version 2>&1))"

# pip prints a warning per missing local index folder; keep the log readable.
pip_install() {
  "$PY" -m pip install --disable-pip-version-check -c "$REPO/requirements/constraints.txt" "$@" \
    2> >(grep -v 'is ignored: it is neither a file nor a directory' >&2)
}

log "step 1/4: torch, torchvision, build tools (requirements/build.txt)"
pip_install -q -r "$REPO/requirements/build.txt"

TORCH_VERSION="$("$PY" -c 'import torch; print(torch.__version__)')"
PY_TAG="$("$PY" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')"
CACHE_ROOT="${MMSHALLOW_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mmshallow}"
WHEEL_DIR="$CACHE_ROOT/wheels/mmcv-$MMCV_VERSION/torch-$TORCH_VERSION-$PY_TAG-$(uname -m)"

mmcv_ok() {
  # Run from / so that no mmcv source tree shadows the installed package.
  (cd / && "$PY" - "$MMCV_VERSION" <<'PYEOF'
import sys
import mmcv
assert mmcv.__version__ == sys.argv[1], mmcv.__version__
from mmcv.ops import nms, RoIAlign  # noqa: F401  (the compiled ops)
PYEOF
  ) >/dev/null 2>&1
}

build_mmcv_wheel() {
  local work
  work="$(mktemp -d)"
  log "building mmcv $MMCV_VERSION with its C++ ops against torch $TORCH_VERSION (10-15 min on 2 cores)"
  "$PY" -m pip download --disable-pip-version-check --no-deps --no-binary :all: \
    --no-build-isolation "mmcv==$MMCV_VERSION" -d "$work" \
    2> >(grep -v 'is ignored: it is neither a file nor a directory' >&2)
  tar -xzf "$work/mmcv-$MMCV_VERSION.tar.gz" -C "$work"
  # torch >= 2.14's headers refuse anything older than C++20; mmcv 2.1.0 asks for C++17.
  "$PY" - "$work/mmcv-$MMCV_VERSION/setup.py" <<'PYEOF'
import sys
path = sys.argv[1]
src = open(path).read()
old = "extra_compile_args['cxx'] = ['-std=c++17']"
if src.count(old) != 1:
    sys.exit(f'mmcv setup.py changed: expected one {old!r}')
open(path, 'w').write(src.replace(old, "extra_compile_args['cxx'] = ['-std=c++20']"))
PYEOF
  (cd "$work/mmcv-$MMCV_VERSION" && MMCV_WITH_OPS=1 FORCE_CUDA=0 MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
    "$PY" -m pip wheel --disable-pip-version-check --no-deps --no-build-isolation \
    -w "$work/dist" . 2> >(grep -v 'is ignored: it is neither a file nor a directory' >&2))
  mkdir -p "$WHEEL_DIR"
  cp "$work"/dist/mmcv-*.whl "$WHEEL_DIR.tmp.whl"
  mv "$WHEEL_DIR.tmp.whl" "$WHEEL_DIR/$(basename "$work"/dist/mmcv-*.whl)"
  rm -rf "$work"
}

log "step 2/4: mmcv $MMCV_VERSION (full, with ops)"
if mmcv_ok; then
  log "mmcv $MMCV_VERSION with ops already installed"
else
  if ! ls "$WHEEL_DIR"/mmcv-*.whl >/dev/null 2>&1; then
    build_mmcv_wheel
  else
    log "using cached wheel $(ls "$WHEEL_DIR"/mmcv-*.whl)"
  fi
  # An mmcv built against another torch (or mmcv-lite) would shadow ours.
  "$PY" -m pip uninstall -y -q mmcv mmcv-lite >/dev/null 2>&1 || true
  pip_install -q "$WHEEL_DIR"/mmcv-*.whl
  mmcv_ok || { echo "[install] mmcv $MMCV_VERSION installed but mmcv.ops does not import" >&2; exit 1; }
fi

log "step 3/4: mmengine, mmdet, mmpretrain, pycocotools, openmim, pytest (requirements/stack.txt)"
pip_install -q -r "$REPO/requirements/stack.txt" -r "$REPO/requirements/tests.txt"
if [ "$WITH_DEPLOY" = 1 ]; then
  log "         + mmdeploy, onnxruntime (requirements/deploy.txt)"
  pip_install -q -r "$REPO/requirements/deploy.txt"
fi
if [ "$WITH_BENCHMARK" = 1 ]; then
  log "         + timm (requirements/benchmark.txt)"
  pip_install -q -r "$REPO/requirements/benchmark.txt"
fi
if [ "$WITH_QUICKSTART" = 1 ]; then
  log "         + scikit-learn (requirements/quickstart.txt)"
  pip_install -q -r "$REPO/requirements/quickstart.txt"
fi

log "step 4/4: mmshallow (editable)"
pip_install -q --no-build-isolation --no-deps -e "$REPO"

(cd / && "$PY" -c "
import torch, torchvision, mmengine, mmcv, mmdet, mmpretrain, mmshallow
from mmcv.ops import nms
print('[install] ok: torch', torch.__version__, '| torchvision', torchvision.__version__,
      '| mmengine', mmengine.__version__, '| mmcv', mmcv.__version__, '| mmdet', mmdet.__version__,
      '| mmpretrain', mmpretrain.__version__, '| mmshallow', mmshallow.__version__)
")
