#!/usr/bin/env bash
# The Python SDK's CI step (run by .ci/run after npm test, which builds dist/ for the sidecar the tests start):
# installs python/ offline into a throwaway virtual environment with langchain-core and mypy, type-checks the package
# with mypy --strict and runs its unittest suite. Any failure fails CI; the environment is removed afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="$(mktemp -d "${TMPDIR:-/tmp}/agentguard-python-ci-XXXXXX")"
trap 'rm -rf "$venv"' EXIT
python3 -m venv "$venv"
pip=("$venv/bin/python" -m pip install --quiet --disable-pip-version-check --retries 0 --timeout 20)
# langchain-core 1.6 names langchain-protocol as a dependency, which the local package index lacks; the modules the
# adapter uses (tools, callbacks, messages, LLM) do not import it, so its other dependencies are installed by name.
"${pip[@]}" ./python mypy httpx jsonpatch 'langsmith<1' packaging 'pydantic>=2.7.4,<3' pyyaml 'tenacity>=8.1,<10,!=8.4.0' 'typing-extensions>=4.7' 'uuid-utils>=0.12,<1'
"${pip[@]}" --no-deps 'langchain-core>=1.0,<2'
rm -rf python/build python/agentguard.egg-info
# The installed copy imports from outside the source folder, and is type-checked there (beside the tests, which
# mostly wait on the sidecar).
(cd "$venv" && "$venv/bin/python" -c 'import agentguard, agentguard.langchain; assert "site-packages" in agentguard.__file__, agentguard.__file__')
(cd "$venv" && exec "$venv/bin/python" -m mypy --strict --cache-dir "$venv/mypy-cache" -p agentguard) &
mypy_pid=$!
tests=0
AGENTGUARD_REQUIRE_LANGCHAIN=1 "$venv/bin/python" -m unittest discover -s python/tests -t python || tests=$?
types=0
wait "$mypy_pid" || types=$?
if [ "$types" -ne 0 ]; then echo "python/ci.sh: mypy --strict failed" >&2; fi
if [ "$tests" -ne 0 ]; then echo "python/ci.sh: the Python SDK tests failed" >&2; fi
[ "$types" -eq 0 ] && [ "$tests" -eq 0 ]
