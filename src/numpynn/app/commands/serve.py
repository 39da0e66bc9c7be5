"""`numpynn serve`: a local web page where you draw a digit (or upload a photo) and see what the model reads."""

import argparse
import errno
import socket

from numpynn import threads
from numpynn.app.runs.folder import MODEL_HELP, check_width, open_model
from numpynn.data.images import FIELD

EXAMPLES = """examples:
  numpynn serve runs/NAME                 then open http://127.0.0.1:8000/
  numpynn serve runs/NAME --port 0        any free port (the URL says which)
  numpynn serve runs/NAME --host 0.0.0.0  reachable from your phone on the same network

Digits you correct on the page ("Wrong? It is ...") are saved to drawings.npz in the run folder;
train on them with `numpynn train --dataset runs/NAME/drawings.npz --val-split 0.2`.
"""
INSTALL = "numpynn serve needs the serve extra (Starlette and uvicorn); install it with: pip install 'numpynn[serve]'."


def add_parser(sub) -> None:
    help = "a local web page: draw a digit or upload a photo and see the model's answer"
    p = sub.add_parser("serve", help=help, description=help, epilog=EXAMPLES,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", metavar="RUN|MODEL", help=MODEL_HELP)
    threads.add_option(p)
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default: 127.0.0.1, this computer only); 0.0.0.0 exposes the "
                        "page, the model's answers and saving drawings into the run folder to every machine "
                        "that can reach this one, with no password")
    p.add_argument("--port", type=int, default=8000, help="port to listen on; 0 picks a free one (default: 8000)")
    p.set_defaults(handler=run)


def run(args) -> int:
    """Load the model, bind the socket, print the URL, and serve until Ctrl+C."""
    try:
        import uvicorn

        from numpynn.app.serve.app import create_app
    except ImportError:
        raise ValueError(INSTALL) from None
    if not 0 <= args.port <= 65535:
        raise ValueError(f"--port {args.port} is not a port number; pass one in 1..65535, or 0 for a free one.")
    trained = open_model(args.model, door="serve")
    check_width(trained, FIELD * FIELD, f"{FIELD}x{FIELD} digit images")
    loopback = args.host in ("127.0.0.1", "localhost", "::1")
    app = create_app(trained, loopback_only=loopback)
    sock = _bind(args.host, args.port)
    host, port = sock.getsockname()[:2]
    if host in ("0.0.0.0", "::"):  # every interface: this machine reaches itself at the loopback address
        host = "127.0.0.1" if host == "0.0.0.0" else "::1"
    shown = f"[{host}]" if ":" in host else host
    print(f"Serving {trained.path} at http://{shown}:{port}/ (Ctrl+C stops)", flush=True)
    if not loopback:
        print(f"Listening on {args.host}: anyone who can reach this machine (at its network address, same port) "
              "can use the page and add drawings.", flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    server.run(sockets=[sock])
    return 0


def _bind(host: str, port: int) -> socket.socket:
    """Bind before starting, so the URL printed names the real port and a busy port is one clear error."""
    family, address = _resolve(host, port)
    try:
        sock = socket.create_server(address, family=family, backlog=128)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise ValueError(f"Port {port} is already in use; pass another --port, or --port 0 for a free one.") \
                from None
        if exc.errno == errno.EADDRNOTAVAIL:
            raise ValueError(f"--host {host} is not an address of this machine; use 127.0.0.1 or 0.0.0.0.") \
                from None
        raise
    # uvicorn sets TCP_NODELAY on sockets it binds itself, not on ours: without it the response body waits
    # for the client's delayed ACK of the headers, ~40 ms a request (accepted sockets inherit the option).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _resolve(host: str, port: int) -> tuple[int, tuple[str, int]]:
    """(family, (address, port)) that `host` names; a name that does not resolve is the user's mistake.

    Resolved here because create_server re-raises a failed lookup as a plain OSError ("Name or service not
    known (while attempting to bind ...)"), which read as a runtime failure with exit 1 (issue 26.10).
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError, ValueError):  # UnicodeError: a label over 63 characters; ValueError: NUL
        infos = []
    if not infos:
        raise ValueError(f"--host {host} does not resolve to an address of this machine; use 127.0.0.1 (this "
                         "computer only) or 0.0.0.0 (every network interface).")
    family, _, _, _, address = infos[0]
    return family, (address[0], address[1])
