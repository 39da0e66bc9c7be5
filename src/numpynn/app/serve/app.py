"""The web app behind `numpynn serve`: the drawing page, and a JSON API over the same functions `predict` calls.

A handler validates the request, calls the library (prepare_digit, predict_proba), and shapes JSON; it holds
no model logic. Every bad request gets a 4xx with a one-sentence {"error": ...} and the next one is served.
"""

import base64
import io
import sys
import threading
import traceback
from pathlib import Path

import anyio
import numpy as np
from PIL import Image
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, JSONResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from numpynn.app.runs.folder import TrainedModel
from numpynn.app.serve.drawings import FILE_NAME, Drawings, DrawingsUnavailable, finetune_command
from numpynn.data.images import prepare_digit
from numpynn.errors import DataError

STATIC = Path(__file__).with_name("static")
MAX_BODY = 5 * 1024**2       # bytes; a phone photo as JPEG fits, and the cap holds while the body streams in
DRAIN = 4 * MAX_BODY          # bytes read and dropped past the cap, so the client gets to read the 413 sentence
MAX_PIXELS = 25_000_000      # a 24-megapixel photo fits; decoding bigger ones could exhaust a small server's memory
DECODERS = 2                 # images decoded at once (each can take a few hundred MB); more requests wait their turn
LOOPBACK = {"127.0.0.1", "localhost", "[::1]"}
API = "POST /api/predict, POST /api/drawings?label=N, GET /api/model and GET /healthz"
# The page runs only its own files: no inline script, nothing from other sites (it works offline).
PAGE_HEADERS = {"Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; object-src 'none'",
                "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-cache"}


class PageFiles(StaticFiles):
    """The page's scripts and styles, revalidated on every load (cheap, by ETag): after a numpynn upgrade a
    cached old app.js must not talk to the new API."""

    def file_response(self, *args, **kwargs):
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


class DigitService:
    """The model a server answers with, its drawings file, and the locks that make concurrent requests safe."""

    def __init__(self, trained: TrainedModel, drawings: Drawings):
        self.trained, self.drawings = trained, drawings
        self.model_lock = threading.Lock()  # layers keep their last input for backward: one forward at a time
        self.decoders = anyio.CapacityLimiter(DECODERS)

    def predict(self, image: bytes) -> dict:
        """The label, per-class probabilities and the 28x28 the model saw, for one image's bytes."""
        pixels = prepare_digit(image, max_pixels=MAX_PIXELS)
        # As predict does: scaled rows, then the model's own input shape ((1, C, H, W) images for a CNN).
        x = self.trained.as_input(self.trained.preprocess(pixels.reshape(1, -1)))
        with self.model_lock:
            probs = self.trained.model.predict_proba(x)[0]
        names = self.trained.class_names
        best = int(np.argmax(probs))
        return {"label": best, "class_name": names[best],
                "probabilities": [{"label": k, "class_name": names[k], "probability": float(p)}
                                  for k, p in enumerate(probs)],
                "preprocessed": png_data_url(pixels)}

    def save(self, image: bytes, label: int) -> dict:
        """Prepare the image as predict does and append it with its label to the drawings file."""
        pixels = prepare_digit(image, max_pixels=MAX_PIXELS)
        count = self.drawings.append(pixels, label)
        return {"saved": count, "label": label, "class_name": self.trained.class_names[label],
                "path": self.shown(self.drawings.path)}

    def settings(self) -> dict | None:
        """The run's config without the host's paths: no output folder, and a data file by its name."""
        config = self.trained.metadata.get("config")
        if not isinstance(config, dict):
            return None
        dataset = config.get("dataset")
        named = {"dataset": Path(dataset).name} if isinstance(dataset, str) and ("/" in dataset or "\\" in dataset) \
            else {}
        return {**{k: v for k, v in config.items() if k != "out"}, **named}

    def shown(self, path: Path) -> str:
        """A file as the API names it: relative to the run folder (the host's own paths are none of a client's
        business); a file outside it by its name alone."""
        path, run = Path(path).resolve(), Path(self.trained.path).resolve().parent
        return str(path.relative_to(run)) if path.is_relative_to(run) else path.name

    def describe(self) -> dict:
        trained, meta = self.trained, self.trained.metadata
        prep = meta.get("preprocessing", {})
        return {"model": self.shown(trained.path), "run": Path(trained.path).resolve().parent.name,
                "network": trained.network, "summary": repr(trained.model), "architecture": trained.model.config(),
                "parameters": trained.model.num_parameters(), "dtype": str(trained.model.dtype),
                "input_shape": prep.get("input_shape"), "preprocessing": prep.get("method"),
                "classes": trained.class_names, "metrics": meta.get("metrics"), "config": self.settings(),
                "drawings": {"path": self.shown(self.drawings.path), **self.drawings.summary()}}


def png_data_url(pixels: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


async def read_image(request: Request) -> bytes:
    """The request body, refused unless it is a non-empty image upload of at most MAX_BODY bytes."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    # Only an image type is accepted: a form or text/plain post from another site (which a browser sends
    # without asking this server first) is refused, so a web page elsewhere cannot write into the run folder.
    if not kind.startswith("image/"):
        raise HTTPException(415, "The body must be an image sent with Content-Type image/png or image/jpeg "
                                 f"(this request had {kind or 'none'}).")
    length = request.headers.get("content-length")
    if length is not None and (not is_number(length) or int(length) > DRAIN):
        raise too_large()  # too big to read through: answered at once, and the connection closed under it
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > DRAIN:
                break
            if size <= MAX_BODY:  # over the cap, the rest is read and dropped: memory stays within MAX_BODY
                chunks.append(chunk)
    except ClientDisconnect:
        raise HTTPException(400, "The client went away before sending the whole image.") from None
    if size > MAX_BODY:
        raise too_large()
    if size == 0:
        raise HTTPException(400, "The request body is empty; send a PNG or JPEG image of one digit.")
    return b"".join(chunks)


def is_number(text: str) -> bool:
    """Whether text is a plain decimal number: '²' and other Unicode digits pass str.isdigit but not int()."""
    return text.isascii() and text.isdigit()


def too_large() -> HTTPException:
    # A body of up to DRAIN bytes has been read to its end before this answer, so the client, still sending,
    # is not reset before it reads the 413 (issue 21.2); Connection: close ends the connection after it.
    return HTTPException(413, f"The image is over the {MAX_BODY // 1024**2} MB cap; send a smaller picture.",
                         headers={"Connection": "close"})


async def run_prepared(service: DigitService, work, *args):
    """Run image work in a worker thread (the event loop keeps serving), turning bad images into a 400/422."""
    try:
        return await anyio.to_thread.run_sync(work, *args, limiter=service.decoders)
    except DrawingsUnavailable as exc:  # the host's file or disk: 409/500/507, said in one sentence
        raise HTTPException(exc.status, str(exc)) from None
    except DataError as exc:
        # Not an image, truncated, too many pixels: the client's fault (400); a readable image without a
        # digit in it is well-formed but unusable (422).
        raise HTTPException(422 if str(exc).startswith("No digit found") else 400, str(exc)) from None


async def predict(request: Request) -> JSONResponse:
    service = request.app.state.service
    return JSONResponse(await run_prepared(service, service.predict, await read_image(request)))


async def save_drawing(request: Request) -> JSONResponse:
    service = request.app.state.service
    text = request.query_params.get("label", "")
    names = service.trained.class_names
    if not is_number(text) or int(text) >= len(names):
        raise HTTPException(400, f"Pass the digit's label as ?label=N with N in 0..{len(names) - 1}, not {text!r}.")
    image = await read_image(request)
    answer = await run_prepared(service, service.save, image, int(text))
    # The page shows this one command, and where to type it
    answer["finetune"], answer["finetune_where"] = finetune_command(Path(service.trained.path).parent)
    return JSONResponse(answer)


async def model_info(request: Request) -> JSONResponse:
    service = request.app.state.service
    return JSONResponse(await anyio.to_thread.run_sync(service.describe))


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def index(request: Request) -> FileResponse:
    return FileResponse(STATIC / "index.html", headers=PAGE_HEADERS)


async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
    message = exc.detail
    if exc.status_code == 404:
        message = f"There is nothing at {request.url.path}; the page is / and the API is {API}."
    elif exc.status_code == 405:
        allowed = [m.strip() for m in (exc.headers or {}).get("Allow", "").split(",") if m.strip() != "HEAD"]
        message = f"{request.method} is not allowed on {request.url.path}; use {' or '.join(allowed) or 'GET'}."
    return JSONResponse({"error": message}, exc.status_code, headers=exc.headers)


class ServerErrors:
    """A bug in a handler is a JSON 500 and a traceback in the server's log, and the connection stays usable.

    Starlette's own handler for Exception answers too but then re-raises, and uvicorn closes the connection
    under a client that may already be sending its next request on it (a reset, seen in the tests).
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        started = False

        async def tracking_send(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if scope["type"] != "http" or started:
                raise
            traceback.print_exc(file=sys.stderr)
            response = JSONResponse({"error": f"The server failed on this request ({type(exc).__name__}); "
                                              "it keeps serving the next ones."}, 500)
            await response(scope, receive, send)


class LoopbackHostOnly:
    """Refuse requests whose Host header names another site (DNS rebinding) while bound to this machine only."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            host = Headers(scope=scope).get("host", "")
            name = host[:host.find("]") + 1] if host.startswith("[") else host.rsplit(":", 1)[0]
            if name.lower() not in LOOPBACK:
                response = JSONResponse({"error": f"Host {host!r} is not this server's address; open "
                                                  "http://127.0.0.1 with its port instead."}, 400)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def create_app(trained: TrainedModel, drawings: Drawings | None = None, loopback_only: bool = True) -> Starlette:
    """The ASGI app for one model; drawings go to drawings.npz beside the model unless `drawings` says otherwise."""
    drawings = drawings or Drawings(Path(trained.path).parent / FILE_NAME, len(trained.class_names))
    routes = [
        Route("/", index, methods=["GET"]),
        Route("/api/predict", predict, methods=["POST"]),
        Route("/api/drawings", save_drawing, methods=["POST"]),
        Route("/api/model", model_info, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Mount("/static", PageFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: http_error})
    app.state.service = DigitService(trained, drawings)
    app.add_middleware(ServerErrors)  # innermost of the added middleware: every handler's bug stops here
    if loopback_only:
        app.add_middleware(LoopbackHostOnly)
    return app

