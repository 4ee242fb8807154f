#!/usr/bin/env bash
# Install mmshallow with its pinned OpenMMLab stack (README: "Install").
#
#   bash tools/install.sh            # into .venv/ in the repo root (created if missing)
#   bash tools/install.sh --system   # into the active Python environment (conda, your own venv)
#   bash tools/install.sh --deploy   # also mmdeploy + onnxruntime (combinable with --system)
#   bash tools/install.sh --benchmark  # also timm, for tools/benchmark.py's baselines
#   bash tools/install.sh --quickstart # also scikit-learn, for the classification quickstart
#   bash tools/install.sh --mmseg      # also mmsegmentation (+ ftfy, regex), for segmentation
#   bash tools/install.sh --lowest     # .venv-lowest/ with the lowest supported stack
#                                      # (requirements/lowest.txt: torch 2.1, mmcv-lite; no build)
#
# --system keeps a torch that is already installed and supported (>= the lowest release in
# mmshallow/version.py), with its torchvision and numpy, and builds mmcv for that torch.
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
LOWEST=0
WITH_DEPLOY=0
WITH_BENCHMARK=0
WITH_QUICKSTART=0
WITH_MMSEG=0
for arg in "$@"; do
  case "$arg" in
    --system) USE_VENV=0 ;;
    --lowest) LOWEST=1 ;;
    --deploy) WITH_DEPLOY=1 ;;
    --benchmark) WITH_BENCHMARK=1 ;;
    --quickstart) WITH_QUICKSTART=1 ;;
    --mmseg) WITH_MMSEG=1 ;;
    -h|--help) sed -n '/^set -euo/q; 2,$p' "$0"; exit 0 ;;  # the header above
    *) echo "install.sh: unknown option '$arg' (allowed: --system, --deploy, --benchmark, --quickstart, --mmseg, --lowest, --help)" >&2; exit 2 ;;
  esac
done

log() { echo "[install] $*"; }

VENV="$REPO/.venv"
[ "$LOWEST" = 1 ] && VENV="$REPO/.venv-lowest"
if [ "$USE_VENV" = 1 ]; then
  if [ ! -x "$VENV/bin/python" ]; then
    log "creating $VENV"
    "${MMSHALLOW_PYTHON:-python3}" -m venv "$VENV"
  fi
  PY="$VENV/bin/python"
else
  PY="$(command -v python || command -v python3)"
fi
log "python: $PY ($("$PY" --version 2>&1))"

if [ "$LOWEST" = 1 ]; then
  # Everything from the registry, nothing built: the lowest supported releases and mmcv-lite.
  log "lowest supported stack (requirements/lowest.txt)"
  "$PY" -m pip install --disable-pip-version-check -q -c "$REPO/requirements/lowest.txt" \
    -r "$REPO/requirements/lowest.txt" 2> >(grep -v 'is ignored: it is neither' >&2)
  # pip's resolver with the declared requirements: it must install mmshallow alone here
  "$PY" -m pip install --disable-pip-version-check -q -c "$REPO/requirements/lowest.txt" \
    -e "$REPO" 2> >(grep -v 'is ignored: it is neither' >&2)
  (cd / && "$PY" -c "
import torch, mmengine, mmcv, mmshallow
print('[install] ok: torch', torch.__version__, '| mmengine', mmengine.__version__,
      '| mmcv (lite)', mmcv.__version__, '| mmshallow', mmshallow.__version__)")
  exit 0
fi

LOWEST_TORCH="$(sed -n "s/^ *'torch': ('\([0-9.]*\)'.*/\1/p" "$REPO/mmshallow/version.py")"
CONSTRAINTS="$REPO/requirements/constraints.txt"
PRESENT_TORCH="$(cd / && "$PY" -c 'import torch; print(torch.__version__)' 2>/dev/null || true)"
if [ "$USE_VENV" = 0 ] && [ -n "$PRESENT_TORCH" ]; then
  if ! "$PY" - "$PRESENT_TORCH" "$LOWEST_TORCH" <<'PYEOF'
import re, sys
rel = lambda v: tuple(int(n) for n in re.match(r'(\d+(?:\.\d+)*)', v).group(1).split('.'))
sys.exit(0 if rel(sys.argv[1]) >= rel(sys.argv[2]) else 1)
PYEOF
  then
    echo "[install] torch $PRESENT_TORCH is installed; mmshallow supports torch >= $LOWEST_TORCH." \
      "Upgrade torch (and torchvision, mmcv with it) first, or use a fresh venv (no --system)." >&2
    exit 1
  fi
  # Keep the environment's torch, torchvision and numpy: pin them for every pip call below.
  CONSTRAINTS="$(mktemp)"
  grep -v -E '^(torch|torchvision)==' "$REPO/requirements/constraints.txt" > "$CONSTRAINTS"
  (cd / && "$PY" - >> "$CONSTRAINTS" <<'PYEOF'
import importlib.metadata as md
for name in ('torch', 'torchvision', 'numpy'):
    try:
        print(f'{name}=={md.version(name)}')
    except md.PackageNotFoundError:
        pass
PYEOF
  )
  log "keeping the installed torch $PRESENT_TORCH (supported: >= $LOWEST_TORCH); pins: $(grep -E '^(torch|torchvision|numpy)==' "$CONSTRAINTS" | tr '\n' ' ')"
fi

# pip prints a warning per missing local index folder; keep the log readable.
pip_install() {
  "$PY" -m pip install --disable-pip-version-check -c "$CONSTRAINTS" "$@" \
    2> >(grep -v 'is ignored: it is neither a file nor a directory' >&2)
}

if [ "$USE_VENV" = 0 ] && [ -n "$PRESENT_TORCH" ]; then
  log "step 1/4: build tools (torch $PRESENT_TORCH kept)"
  pip_install -q $(grep -v -E '^(torch|torchvision)==|^#|^$' "$REPO/requirements/build.txt")
else
  log "step 1/4: torch, torchvision, build tools (requirements/build.txt)"
  pip_install -q -r "$REPO/requirements/build.txt"
fi

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
import re, sys
import torch
if tuple(int(n) for n in re.findall(r'\d+', torch.__version__)[:2]) < (2, 14):
    sys.exit(0)  # older torch builds with mmcv's own C++17
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
if [ "$WITH_MMSEG" = 1 ]; then
  log "         + mmsegmentation, ftfy, regex (requirements/mmseg.txt)"
  pip_install -q -r "$REPO/requirements/mmseg.txt"
fi

log "step 4/4: mmshallow (editable)"
pip_install -q --no-build-isolation --no-deps -e "$REPO"

(cd / && "$PY" - "$WITH_MMSEG" <<'PYEOF'
import sys
import torch, torchvision, mmengine, mmcv, mmdet, mmpretrain, mmshallow
from mmcv.ops import nms
extra = ''
if sys.argv[1] == '1':
    import mmseg, mmseg.models  # mmseg.models needs ftfy, regex and mmcv.ops
    extra = f' | mmseg {mmseg.__version__}'
print('[install] ok: torch', torch.__version__, '| torchvision', torchvision.__version__,
      '| mmengine', mmengine.__version__, '| mmcv', mmcv.__version__, '| mmdet', mmdet.__version__,
      '| mmpretrain', mmpretrain.__version__ + extra, '| mmshallow', mmshallow.__version__)
PYEOF
)
