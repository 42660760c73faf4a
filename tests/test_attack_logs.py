"""Share tokens never reach a log, however the path is spelled (issue 23): found by hand against ``longwatch serve``.

gunicorn logs the request line as the client sent it, so ``GET /%73/TOKEN`` (which the app routes to the
share link ``/s/TOKEN``) and referers with the same spelling must be redacted too.
"""

from __future__ import annotations

import pytest

from longwatch import logs

TOKEN = "1d9KncP9exMKSnb_PrT66o5m-lkKmPVUedUEmteNdsk"


@pytest.mark.parametrize("path", [f"/%73/{TOKEN}", f"/%53/{TOKEN}/download".replace("%53", "%73"),
                                  f"/s%2F{TOKEN}", f"/s%2f{TOKEN}", f"/%73%2F{TOKEN}", f"//s/{TOKEN}",
                                  f"/s/%{ord(TOKEN[0]):02X}{TOKEN[1:]}"])
def test_a_share_token_in_a_percent_encoded_path_is_redacted(path: str) -> None:
    line = f'127.0.0.1 - - "GET {path} HTTP/1.1" 200 8255 "http://x{path}" "curl/7.88.1"'
    clean = logs.redact(line)
    assert TOKEN[5:] not in clean, clean
    assert logs.REDACTED in clean and clean.startswith('127.0.0.1 - - "GET /')
