"""Run every benchmark in turn and stop at the first that misses its goal."""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = ["deadline.py", "bulk_locate.py", "intake.py", "evaluation.py"]

if __name__ == "__main__":
    failed = []
    for script in SCRIPTS:
        print(f"\n=== {script}", flush=True)
        if subprocess.run([sys.executable, str(HERE / script)], check=False).returncode != 0:
            failed.append(script)
    print("\nmissed goals: " + (", ".join(failed) if failed else "none"))
    sys.exit(1 if failed else 0)
