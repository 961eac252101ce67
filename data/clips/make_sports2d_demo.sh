#!/usr/bin/env bash
# Rebuild data/clips/sports2d_demo/sports2d_demo.mp4 from its source, the demo video in the sports2d 0.8.34 wheel
# (BSD-3-Clause, see LICENSE-sports2d.txt). Needs the kit's .venv (pip, imageio-ffmpeg's ffmpeg).
# Source: 1768x994, 230 frames, 30 fps, VP9 + AAC audio. Copy: 960x540, all 230 frames, 30 fps,
# H.264 (libx264, CRF 23, yuv420p, +faststart), no audio.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
py="${PYTHON:-$here/../../.venv/bin/python}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$py" -m pip download --quiet --no-deps sports2d==0.8.34 -d "$work"
(cd "$work" && "$py" -m zipfile -e sports2d-0.8.34-py3-none-any.whl unpacked)
ffmpeg="$("$py" -c 'import imageio_ffmpeg; print(imageio_ffmpeg.get_ffmpeg_exe())')"
mkdir -p "$here/sports2d_demo"
"$ffmpeg" -hide_banner -loglevel error -y -i "$work/unpacked/Sports2D/Demo/demo.mp4" \
    -an -vf "scale=960:540:flags=lanczos" -c:v libx264 -preset slow -crf 23 -pix_fmt yuv420p \
    -movflags +faststart "$here/sports2d_demo/sports2d_demo.mp4"
cp "$work/unpacked/sports2d-0.8.34.dist-info/licenses/LICENSE" "$here/LICENSE-sports2d.txt"
echo "wrote $here/sports2d_demo/sports2d_demo.mp4"
