"""The pure parts of the load generator: percentiles, outcomes, the checks of acknowledged writes
and DAG files, the reports."""

from __future__ import annotations

import socket
import threading

import pytest
import requests

from benchmarks.loadmix import (
    BROKEN,
    classify,
)

# -- percentiles ---------------------------------------------------------------------------------------


# -- outcomes ------------------------------------------------------------------------------------------


def test_a_server_that_closes_without_answering_is_a_broken_connection() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()

        def hang_up() -> None:
            conn, _ = server.accept()
            conn.recv(1024)
            conn.close()

        thread = threading.Thread(target=hang_up)
        thread.start()
        with pytest.raises(requests.RequestException) as caught:
            requests.get(f"http://127.0.0.1:{server.getsockname()[1]}/", timeout=10)
        thread.join()
    assert classify(status=None, error=caught.value) == BROKEN


# -- acknowledged writes -------------------------------------------------------------------------------


# -- DAG files -----------------------------------------------------------------------------------------


# -- entities ------------------------------------------------------------------------------------------


# -- reports -------------------------------------------------------------------------------------------
