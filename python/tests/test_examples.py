"""The examples in examples/python run offline (each starts its own sidecar and fake provider) and show every case."""

from __future__ import annotations

import os
import subprocess
import sys
import unittest
from typing import Dict, List

from . import support
from .test_langchain import HAVE_LANGCHAIN

EXAMPLES = support.ROOT / "examples" / "python"


class ExamplesTest(unittest.TestCase):
    def test_examples_run_and_show_allowed_denied_approved_and_redacted(self) -> None:
        names = ["tool_loop.py", *(["langchain_agent.py"] if HAVE_LANGCHAIN else [])]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(support.ROOT / "python"), os.environ.get("PYTHONPATH", "")])}
        # Side by side: each waits mostly on its own sidecar's start.
        running: Dict[str, subprocess.Popen[str]] = {
            name: subprocess.Popen([sys.executable, str(EXAMPLES / name)], cwd=support.ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for name in names
        }
        for name, process in running.items():
            with self.subTest(name):
                try:
                    stdout, stderr = process.communicate(timeout=240)
                except subprocess.TimeoutExpired:
                    # SIGTERM: the example stops its own sidecar before it exits.
                    process.terminate()
                    stdout, stderr = process.communicate(timeout=60)
                    self.fail(f"{name} did not finish within 240 s:\n{stdout}\n{stderr}")
                self.assertEqual(process.returncode, 0, stderr)
                lines: List[str] = stdout.splitlines()
                for label in ("allowed:", "denied:", "approved:", "redacted:", "answer:"):
                    self.assertTrue(any(line.startswith(label) for line in lines), f"{name} printed no {label} line:\n{stdout}")
                self.assertIn("did not run: ", stdout)
                self.assertIn('the provider received "Order 7 of <EMAIL_ADDRESS> arrived broken', stdout)
                self.assertIn("ran:       lookup_order, refund\n", stdout, "the denied SQL never ran")
                self.assertNotIn("Traceback", stderr)


if __name__ == "__main__":
    unittest.main()
