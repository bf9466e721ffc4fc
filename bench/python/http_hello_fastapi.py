"""The http_hello workload's FastAPI twin (shared/bench/WORKLOADS.md).

GET / answers 200, text/plain, "Hello, World!". bench/http_hello runs it as

    python3 -m uvicorn --app-dir bench/python http_hello_fastapi:app \
        --host 127.0.0.1 --port PORT --workers 1 --loop uvloop --http httptools \
        --no-access-log --log-level warning

(one process: uvicorn without --workers > 1 does not fork). Debian's packages
only: python3-fastapi, python3-uvicorn, python3-uvloop, python3-httptools.
"""
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

app = FastAPI()


@app.get("/", response_class=PlainTextResponse)
async def hello():
    # Starlette adds "; charset=utf-8" to text/* media types.
    return PlainTextResponse("Hello, World!", media_type="text/plain")
