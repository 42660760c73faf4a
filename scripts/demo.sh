#!/usr/bin/env bash
# make demo: sample footage from three cameras -> archive -> verify -> web UI.
set -euo pipefail
dir=${1:-demo-archive}
port=${2:-8000}
lw="$(pwd)/.venv/bin/longwatch"
py="$(pwd)/.venv/bin/python"
footage="$dir-footage"
# The signing key is encrypted at rest; a service gets its passphrase from the environment (or a
# systemd credential). The demo uses a fixed one: set LONGWATCH_KEY_PASSPHRASE to choose your own.
export LONGWATCH_KEY_PASSPHRASE="${LONGWATCH_KEY_PASSPHRASE:-longwatch demo passphrase}"

if [ ! -f "$dir/longwatch.toml" ]; then
  "$lw" init "$dir" --name "longwatch demo" --organization "Demo City CCTV Control Centre" --language ko
fi
mkdir -p "$footage"
echo "== Generating sample footage (3 cameras x 2 clips x 60 s, burned-in UTC clock) =="
"$py" - "$footage" <<'PY'
import json, sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from longwatch.core.media.probe import make_test_clip

out = Path(sys.argv[1])
cameras = [
    ("cam-jongno-01", "Jongno-gu/Gwanghwamun", 37.5759, 126.9769, "Gwanghwamun Square", "testsrc2"),
    ("cam-junggu-07", "Jung-gu/Market", 37.5597, 126.9770, "Namdaemun Market", "smptehdbars"),
    ("cam-mapo-03", "Mapo-gu/Riverside", 37.5490, 126.9130, "Mangwon Hangang Park", "mandelbrot"),
]
base = datetime(2026, 3, 3, 5, 0, tzinfo=timezone.utc)  # 14:00 KST
for cam, zone, lat, lon, place, source in cameras:
    for n in range(2):
        start = base + timedelta(minutes=n)
        clip = out / f"{cam}_{start:%Y%m%dT%H%M%SZ}.mp4"
        if clip.exists():
            continue
        make_test_clip(clip, seconds=60, size="640x360", label=cam, start=start, source=source)
        (out / (clip.name + ".json")).write_text(json.dumps({
            "camera": cam, "zone": zone, "location": {"lat": lat, "lon": lon},
            "location_name": place, "start": start.isoformat(),
        }, ensure_ascii=False))
        print(f"  {clip}")
PY
echo "== Archiving =="
"$lw" -A "$dir" ingest "$footage" || [ $? -eq 4 ]   # already archived clips are reported, not re-archived
echo "== Verifying every package =="
"$lw" -A "$dir" verify --all
echo "== The archive =="
"$lw" -A "$dir" list
echo
echo "Verify one package yourself with standard tools:"
first=$(find "$dir/storage/packages" -mindepth 3 -maxdepth 3 -type d | head -n 1)
echo "  (cd $first && sha256sum -c manifest-sha256.txt && openssl cms -verify -binary -inform DER \\"
echo "     -in signature/tagmanifest-sha256.txt.p7s -content tagmanifest-sha256.txt \\"
echo "     -CAfile $(cd "$dir" && pwd)/keys/signing-cert.pem -purpose any -out /dev/null)"
echo
if ! "$lw" -A "$dir" users list --json | grep -q '"username": "demo"'; then
    printf 'demo-password\n' | "$lw" -A "$dir" users add demo --role administrator --password-stdin
fi
echo "== Web UI on http://127.0.0.1:$port/ (sign in as demo / demo-password; Ctrl-C to stop) =="
exec "$lw" -A "$dir" serve --host 127.0.0.1 --port "$port"
