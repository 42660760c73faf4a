"""Built-in web plugin: the archive's anchors, public (no sign-in), beside the CCTV notice.

``/.well-known/longwatch/anchors.json`` is the stable, machine-readable
address an export's VERIFY.txt and report point to: the signing certificates
(fingerprints, validity) and the newest signed checkpoints of the custody
ledger (core/custody/anchors.py). ``/anchors`` shows the same to people. A
verifier compares what an export carries with what it fetched from here, so
it never relies on the export's own word.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, render_template

from longwatch.core import custody
from longwatch.core.custody import anchors
from longwatch.web.security import current_archive, public

bp = Blueprint("anchors", __name__)


def _document() -> dict[str, Any]:
    archive = current_archive()
    return anchors.document(archive, custody.Ledger.for_archive(archive))


@bp.get(anchors.WELL_KNOWN)
@public
def document() -> Response:
    body = json.dumps(_document(), indent=2, ensure_ascii=False)
    return Response(body, mimetype="application/json", headers={"Cache-Control": "no-cache",
                                                               "Access-Control-Allow-Origin": "*"})


@bp.get("/anchors")
@public
def page() -> str:
    archive = current_archive()
    return render_template("public/anchors.html", doc=_document(), tz=archive.settings.tz,
                           address=anchors.WELL_KNOWN)


def blueprints(app: Any) -> list[Blueprint]:
    return [bp]
