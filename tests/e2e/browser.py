"""Headless Chromium (Debian's ``chromium`` package), driven over the DevTools protocol with
the ``websockets`` client: enough to open a page, run JavaScript in it and read its DOM text.
``make test-packages`` installs the browser (with MariaDB)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import websockets

from stack.process import free_port


class Page:
    def __init__(self, socket: websockets.ClientConnection) -> None:
        self.socket = socket
        self._ids = itertools.count(1)

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        message_id = next(self._ids)
        await self.socket.send(json.dumps({"id": message_id, "method": method, "params": params}))
        while True:
            message = json.loads(await asyncio.wait_for(self.socket.recv(), 30))
            if message.get("id") == message_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    async def evaluate(self, expression: str) -> Any:
        result = await self.call(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:80]}: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def click(self, element: str) -> None:
        """Clicks the element the JavaScript expression ``element`` evaluates to, with real
        mouse events at its centre (widgets that listen to pointer events see them)."""
        box = await self.evaluate(
            f"(() => {{ const r = ({element}).getBoundingClientRect();"
            " return [r.x + r.width / 2, r.y + r.height / 2]; })()"
        )
        x, y = box
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            await self.call(
                "Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1
            )

    async def goto(self, url: str) -> None:
        await self.call("Page.navigate", url=url)

    async def text(self) -> str:
        return str(await self.evaluate("document.body ? document.body.innerText : ''"))


@contextlib.asynccontextmanager
async def chromium_page() -> AsyncIterator[Page]:
    """A page of a fresh headless Chromium, closed on exit."""
    executable = shutil.which("chromium")
    assert executable, "Chromium is missing: run `make test-packages` (apt-get install chromium)"
    port = free_port()
    with tempfile.TemporaryDirectory() as profile:
        process = await asyncio.create_subprocess_exec(
            executable,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            f"--remote-debugging-port={port}",
            f"--user-data-dir={profile}",
            "--window-size=1400,1000",
            "about:blank",
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its helper processes too, to stop them all (below)
        )
        try:
            targets: list[dict[str, Any]] = []
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    async with httpx.AsyncClient() as client:
                        targets = (await client.get(f"http://127.0.0.1:{port}/json/list")).json()
                    if any(t["type"] == "page" for t in targets):
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.2)
            page_target = next(t for t in targets if t["type"] == "page")
            async with websockets.connect(
                page_target["webSocketDebuggerUrl"], max_size=None
            ) as socket:
                page = Page(socket)
                await page.call("Page.enable")
                await page.call("Runtime.enable")
                yield page
        finally:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()
            # Chromium's helpers (renderer, GPU, utility processes) can outlive the browser
            # process for a moment and still write to the profile, which then cannot be
            # removed ("Directory not empty: 'Default'", seen in a full run): end them first.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
