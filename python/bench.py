"""Decision latency through the Python clients and the TypeScript SDK's sidecar mode, against one real sidecar.

    npm run build && python3 python/bench.py        (from the repository root; starts and stops its own sidecar)
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import List

sys.path.insert(0, str(Path(__file__).resolve().parent))

from agentguard import AgentGuard, AsyncAgentGuard  # noqa: E402
from tests import support  # noqa: E402

ACTION = {"kind": "tool", "name": "kb.search", "input": {"q": "refunds"}}
ROUNDS, WARMUP = 500, 50


def report(label: str, ms: List[float]) -> None:
    ms.sort()
    print(f"{label:<32} p50 {ms[len(ms) // 2]:6.2f} ms   p99 {ms[int(len(ms) * 0.99)]:6.2f} ms   ({len(ms)} decisions)")


def main() -> None:
    sidecar = support.sidecar()
    guard = AgentGuard(url=sidecar.url, token=sidecar.agent_token, timeout=10)
    for _ in range(WARMUP):
        guard.decide(ACTION)
    times = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        guard.decide(ACTION)
        times.append((time.perf_counter() - started) * 1000)
    report("python AgentGuard.decide", times)

    async def run_async() -> List[float]:
        client = AsyncAgentGuard(url=sidecar.url, token=sidecar.agent_token, timeout=10)
        for _ in range(WARMUP):
            await client.decide(ACTION)
        out = []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            await client.decide(ACTION)
            out.append((time.perf_counter() - started) * 1000)
        return out

    report("python AsyncAgentGuard.decide", asyncio.run(run_async()))

    script = f"""
import {{ AgentGuard }} from {json.dumps(str(support.ROOT / 'dist' / 'sdk' / 'index.js'))};
const guard = new AgentGuard({{ sidecar: {{ url: {json.dumps(sidecar.url)}, token: {json.dumps(sidecar.agent_token)} }}, timeoutMs: 10000 }});
const action = {json.dumps(ACTION)};
for (let i = 0; i < {WARMUP}; i++) await guard.decide(action);
const times = [];
for (let i = 0; i < {ROUNDS}; i++) {{ const t = performance.now(); await guard.decide(action); times.push(performance.now() - t); }}
console.log(JSON.stringify(times));
await guard.close();
"""
    done = subprocess.run(["node", "--input-type=module", "-e", script], capture_output=True, text=True, check=True)
    report("typescript sidecar-mode decide", json.loads(done.stdout))


if __name__ == "__main__":
    main()
