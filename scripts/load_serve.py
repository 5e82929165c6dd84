"""Load test of `moderator serve`: concurrent clients against comments:analyze, then lone sequential requests.

Starts the server as a subprocess on 127.0.0.1 (a free port, a fresh queue in a temporary directory), waits for
/healthz, runs N clients for a bounded time (or request count) sending generated German comments, and prints
CPU, throughput and latency percentiles. The real model by default; ``--model lexical-fake`` checks the plumbing.

    python scripts/load_serve.py                       # real model, 16 clients, 60 s
    python scripts/load_serve.py --model lexical-fake --duration 5 --json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from moderator.scoring.bench import generate_corpus

KEY = "load-test-key"


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def start_server(model: str, port: int, workdir: Path) -> subprocess.Popen[bytes]:
    # one key for every client, its rate limit lifted: the table measures scoring, not the token bucket
    config = workdir / "moderator.toml"
    config.write_text("[serve]\nrate_per_s = 1000000.0\nrate_burst = 1000000\n", encoding="utf-8")
    env = {**os.environ, "MODERATOR_API_KEYS": KEY, "HF_HUB_OFFLINE": "1", "MODERATOR_CONFIG": str(config)}
    # the checkout's package, not whatever `moderator` the environment has installed
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).resolve().parents[1]), env.get("PYTHONPATH", "")])
    command = [sys.executable, "-m", "moderator", "serve", "--db", str(workdir / "load.db"), "--port", str(port)]
    command += ["--model", model] if model else []
    log = (workdir / "serve.log").open("wb")
    return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_healthy(url: str, process: subprocess.Popen[bytes], timeout_s: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"moderator serve exited with {process.returncode} before it was healthy")
        try:
            response = httpx.get(f"{url}/healthz", timeout=1, trust_env=False)
            if response.status_code == 200:
                return dict(response.json())
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"moderator serve not healthy within {timeout_s:.0f} s")


def body_for(text: str) -> dict[str, Any]:
    return {"comment": {"text": text}, "requestedAttributes": {"TOXICITY": {}}, "languages": ["de"], "doNotStore": True}


def run_clients(url: str, texts: list[str], clients: int, duration_s: float, max_requests: int) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    kinds: dict[str, int] = {}
    sent = 0
    lock = threading.Lock()
    stop_at = time.monotonic() + duration_s

    def client(index: int) -> None:
        nonlocal errors, sent
        with httpx.Client(trust_env=False, timeout=30) as http:
            i = index
            while time.monotonic() < stop_at:
                with lock:
                    if sent >= max_requests:
                        return
                    sent += 1
                started = time.monotonic()
                try:
                    code = http.post(
                        f"{url}/v1alpha1/comments:analyze", params={"key": KEY}, json=body_for(texts[i % len(texts)])
                    ).status_code
                    why = str(code)
                except httpx.HTTPError as exc:
                    code, why = 0, type(exc).__name__
                ok = code == 200
                elapsed = (time.monotonic() - started) * 1000
                with lock:
                    if ok:
                        latencies.append(elapsed)
                    else:
                        errors += 1
                        kinds[why] = kinds.get(why, 0) + 1
                i += clients

    began = time.monotonic()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - began
    return {
        "requests": len(latencies) + errors,
        "errors": errors,
        "error_kinds": kinds,
        "seconds": wall,
        "latencies": latencies,
    }


def lone_p50(url: str, texts: list[str], n: int) -> float | None:
    latencies = []
    with httpx.Client(trust_env=False, timeout=30) as http:
        for text in texts[:n]:
            started = time.monotonic()
            if (
                http.post(f"{url}/v1alpha1/comments:analyze", params={"key": KEY}, json=body_for(text)).status_code
                == 200
            ):
                latencies.append((time.monotonic() - started) * 1000)
    return percentile(latencies, 50)


def batch_rate(model: str, texts: list[str], batch_size: int = 32) -> float:
    """Comments/s of the scorer itself on the same texts in `moderator score`'s batches, in this process.

    The server's throughput is compared with it: micro-batching should cost little against scoring a file.
    The comments sit under the same headline-less article the server files them under.
    """
    from moderator.cli import load_scorer_for
    from moderator.config import DEFAULT_MODEL_NAME, Settings
    from moderator.records import Article, Comment
    from moderator.serve.intake import no_article

    scorer = load_scorer_for(Settings(model=model or DEFAULT_MODEL_NAME))
    article: Article = no_article()
    pairs = [(Comment(id=f"b{i}", article_id=article.id, text=t), article) for i, t in enumerate(texts)]
    scorer.score(pairs[:batch_size])  # warm-up
    started = time.perf_counter()
    for start in range(0, len(pairs), batch_size):
        scorer.score(pairs[start : start + batch_size])
    return len(pairs) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="", help="Model name or directory (default: the shipped model).")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--duration", type=float, default=60.0, help="Seconds of concurrent load (default 60).")
    parser.add_argument("--max-requests", type=int, default=20000, help="Stop the load phase after this many.")
    parser.add_argument("--lone", type=int, default=30, help="Sequential single requests for the lone p50.")
    parser.add_argument("--startup-timeout", type=float, default=180.0, help="Seconds to wait for /healthz.")
    parser.add_argument("--json", action="store_true", help="Print one JSON object instead of the table.")
    args = parser.parse_args()

    texts = [comment.text for comment, _ in generate_corpus(400)]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        process = start_server(args.model, port, Path(tmp))
        try:
            health = wait_healthy(url, process, args.startup_timeout)
            lone = lone_p50(url, texts, args.lone)
            load = run_clients(url, texts, args.clients, args.duration, args.max_requests)
            batches = httpx.get(f"{url}/healthz", timeout=5, trust_env=False).json()
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
    lat = load.pop("latencies")
    batch_cps = batch_rate(args.model, texts)
    throughput = len(lat) / load["seconds"] if load["seconds"] else 0.0
    result = {
        "cpu": cpu_name(),
        "cores": os.cpu_count(),
        "model_version": health["model_version"],
        "clients": args.clients,
        "duration_s": round(load["seconds"], 2),
        "requests": load["requests"],
        "errors": load["errors"],
        "error_kinds": load["error_kinds"],
        "throughput_rps": round(throughput, 1),
        "batch_rate_cps": round(batch_cps, 1),  # the scorer alone, `moderator score`'s batches, same texts
        "served_over_batch": round(throughput / batch_cps, 2) if batch_cps else None,
        "p50_ms": percentile(lat, 50),
        "p95_ms": percentile(lat, 95),
        "p99_ms": percentile(lat, 99),
        "lone_p50_ms": lone,
        "largest_batch": batches["largest_batch"],
    }
    if args.json:
        print(json.dumps(result))
        return
    for name, value in result.items():
        shown = f"{value:.1f}" if isinstance(value, float) else str(value)
        print(f"{name:<15} {shown}")


if __name__ == "__main__":
    main()
