#!/bin/sh
# Build a copy of faxengine whose C kernels carry AddressSanitizer and
# libFuzzer's coverage instrumentation (clang -fsanitize=address,fuzzer-no-link),
# in build/fuzz/asan, for the atheris targets (run.sh --asan).  The in-place
# .so files of the checkout are left alone: other work uses them.
#
# The copy is refreshed from the checkout on every call (tar keeps the
# timestamps, so setup.py only recompiles what changed).  It prints the tree
# to put first on sys.path (FAXENGINE_FUZZ_TREE).
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
DEST=$ROOT/build/fuzz/asan
command -v clang >/dev/null || { echo "build_asan.sh: clang is needed (apt-get install clang)" >&2; exit 2; }
mkdir -p "$DEST"
tar -c --exclude='*.so' --exclude='__pycache__' --exclude='faxengine/*/_*.c' \
    setup.py pyproject.toml README.md csrc faxengine | tar -x -C "$DEST"
cd "$DEST"
CC=clang LDSHARED="clang -shared" \
CFLAGS="-fsanitize=address,fuzzer-no-link -fno-omit-frame-pointer -g" \
LDFLAGS="-fsanitize=address,fuzzer-no-link" \
    nice python setup.py -q build_ext --inplace -j 2 >&2
echo "$DEST"
