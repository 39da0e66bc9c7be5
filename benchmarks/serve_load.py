"""Load on `numpynn serve`: requests/s and p50/p95 latency of POST /api/predict for 1 and 8 concurrent clients.

    .venv/bin/python benchmarks/serve_load.py [RUN] [--requests 400] [--seconds 60]

Starts the real command (`numpynn serve RUN --port 0`, bound to 127.0.0.1 only) in a subprocess; without
RUN it first trains a small model (3000 rows, 3 epochs) into a temporary folder. Each client sends the
280x280 PNG a canvas sends for a drawn digit, over its own keep-alive connection. Bounded in count
(--requests per run, at most 5000) and time (--seconds per run, at most 300). The results go to the
terminal and to results/serve_load.txt.
"""

import argparse
import io
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import record
from PIL import Image, ImageDraw

from numpynn import threads

RESULTS = Path(__file__).parent / "results" / "serve_load.txt"


def canvas_png(digit: int) -> bytes:
    """A drawn 1 or 0 as the page's canvas sends it: dark strokes on a transparent 280x280 PNG."""
    image = Image.new("RGBA", (280, 280), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    if digit == 1:
        pen.line([(140, 50), (140, 230)], fill=(17, 17, 17, 255), width=23)
    else:
        pen.ellipse([85, 45, 195, 235], outline=(17, 17, 17, 255), width=23)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def load(url: str, clients: int, requests: int, seconds: float) -> dict:
    """`requests` POSTs spread over `clients` threads (or fewer if `seconds` run out): latencies and errors."""
    bodies = [canvas_png(1), canvas_png(0)]
    latencies, errors, lock = [], [], threading.Lock()
    remaining = [requests]
    deadline = time.monotonic() + seconds

    def client(k):
        with httpx.Client(base_url=url, timeout=30) as http:
            i = k
            while time.monotonic() < deadline:
                with lock:
                    if remaining[0] == 0:
                        return
                    remaining[0] -= 1
                start = time.perf_counter()
                try:
                    answer = http.post("/api/predict", content=bodies[i % 2], headers={"Content-Type": "image/png"})
                    ok = answer.status_code == 200 and answer.json()["label"] == (1 if i % 2 == 0 else 0)
                except httpx.HTTPError as exc:
                    ok, answer = False, exc
                elapsed = time.perf_counter() - start
                with lock:
                    (latencies if ok else errors).append(elapsed if ok else repr(answer))
                i += 1

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    latencies.sort()

    def pct(q):
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 if latencies else float("nan")

    return {"clients": clients, "done": len(latencies), "errors": len(errors), "wall": wall,
            "rps": len(latencies) / wall, "p50": pct(0.50), "p95": pct(0.95), "max": pct(1.0),
            "first_error": errors[0] if errors else None}


def start_server(run: Path):
    proc = subprocess.Popen([sys.executable, "-m", "numpynn", "serve", str(run), "--host", "127.0.0.1", "--port", "0"],
                            stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if " at http://127.0.0.1:" not in line:
        proc.kill()
        raise SystemExit(f"numpynn serve did not start: {line!r}")
    return proc, line.split(" at ")[1].split()[0].rstrip("/")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", nargs="?", help="a run folder or model.safetensors (default: train a small one)")
    parser.add_argument("--requests", type=int, default=400, help="requests per measurement (default: 400)")
    parser.add_argument("--seconds", type=float, default=60, help="time limit per measurement (default: 60)")
    args = parser.parse_args()
    requests, seconds = max(1, min(args.requests, 5000)), max(1.0, min(args.seconds, 300.0))
    header = record.machine(threads.resolve())  # numpynn serve's threads: the policy's default or NUMPYNN_THREADS
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(args.run) if args.run else Path(tmp) / "digits"
        if not args.run:
            subprocess.run([sys.executable, "-m", "numpynn", "train", "--subset", "3000", "--epochs", "3",
                            "--out", tmp, "--name", "digits", "--quiet", "--no-plots"], check=True,
                           stdout=subprocess.DEVNULL)
        proc, url = start_server(run)
        try:
            load(url, 2, 20, seconds)  # warm-up: imports, first allocations, connection set-up
            rows = [load(url, clients, requests, seconds) for clients in (1, 8)]
        finally:
            proc.terminate()
            proc.wait(30)
    lines = [f"POST /api/predict, 280x280 canvas PNG, {requests} requests per row (limit {seconds:g} s), "
             f"numpynn serve on 127.0.0.1",
             f"{'clients':>7}  {'requests/s':>10}  {'p50 ms':>7}  {'p95 ms':>7}  {'max ms':>7}  {'errors':>6}"]
    for r in rows:
        lines.append(f"{r['clients']:>7}  {r['rps']:>10.1f}  {r['p50']:>7.1f}  {r['p95']:>7.1f}  {r['max']:>7.1f}  "
                     f"{r['errors']:>6}" + (f"  first: {r['first_error']}" if r["first_error"] else ""))
    lines.append(f"8 clients / 1 client throughput: {rows[1]['rps'] / rows[0]['rps']:.2f}x")
    lines.append(f"cpus: {os.cpu_count()}, load average: {', '.join(f'{v:.2f}' for v in os.getloadavg())} "
                 "(a shared machine: other processes compete)")
    report = "\n".join([record.header_line(record.finish(header)), *lines])
    print(report)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(report + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
