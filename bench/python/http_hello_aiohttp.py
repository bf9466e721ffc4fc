"""The http_hello workload's aiohttp twin (shared/bench/WORKLOADS.md).

GET / answers 200, text/plain, "Hello, World!".

    python3 bench/python/http_hello_aiohttp.py --port PORT [--loop asyncio|uvloop]

Prints "port N" once listening (port 0 picks a free one); stops on SIGINT or
SIGTERM. No access log. Debian's python3-aiohttp.
"""
import argparse
import asyncio
import signal
import sys

from aiohttp import web


async def hello(request):
    return web.Response(text="Hello, World!", content_type="text/plain")


async def main(host, port):
    app = web.Application()
    app.router.add_get("/", hello)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port, backlog=1024)
    await site.start()
    bound = site._server.sockets[0].getsockname()[1]
    print(f"port {bound}", flush=True)
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    await stop
    await runner.cleanup()


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    a = p.parse_args()
    if a.loop == "uvloop":
        import uvloop
        uvloop.install()
    asyncio.run(main(a.host, a.port))
    sys.exit(0)
