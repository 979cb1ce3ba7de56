"""What one wake-up costs on this machine: the same work done back to back and after a sleep.

Run: python -m bench.wakeup

The work is what the daemon does with one batch of a streamed answer (parse 19 Ollama lines in
one pass, convert and join them, encode the SSE event). Done back to back it runs with warm
caches; done once after each sleep of an event loop it runs as the relay's batches do. The
ratio between the two is what this machine charges a process for waking up (on the 2-vCPU VM
of docs/benchmarks.md, about 7x after 10 ms or more), and why CPU per stream follows the
number of wake-ups more than the work in each.
"""

import asyncio
import json
import time

from webui_daemon.api.streaming import sse_event
from webui_daemon.providers.convert import ChunkConverter
from webui_daemon.providers.http import parse_json_lines

LINES = [
    json.dumps(
        {
            "model": "standin:latest",
            "created_at": "2026-11-26T02:00:00.000000Z",
            "message": {"role": "assistant", "content": f" tok{i}"},
            "done": False,
        }
    ).encode()
    for i in range(19)
]


def batch(converter: ChunkConverter) -> list[bytes]:
    datas = [d for d in parse_json_lines(LINES) if isinstance(d, dict)]
    return [sse_event(chunk) for chunk in converter.convert_batch(datas)]


async def per_call_us(sleep_s: float, calls: int) -> float:
    converter = ChunkConverter("standin:latest")
    converter.first = False
    spent = 0.0
    for _ in range(calls):
        await asyncio.sleep(sleep_s)
        start = time.thread_time()
        batch(converter)
        spent += time.thread_time() - start
    return spent / calls * 1e6


def main() -> None:
    hot = asyncio.run(per_call_us(0, 2000))
    print(f"back to back: {hot:.1f} µs per batch")
    for sleep_ms in (1, 10, 40, 100):
        cold = asyncio.run(per_call_us(sleep_ms / 1000, 60 if sleep_ms >= 40 else 200))
        print(f"after {sleep_ms:>3} ms asleep: {cold:.1f} µs per batch ({cold / hot:.1f}x)")


if __name__ == "__main__":
    main()
