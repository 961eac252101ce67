#!/usr/bin/env bash
# Rebuild data/clips/pose2sim_demo/pose2sim_demo.mp4 from its source, the first camera of the single-person demo in
# the pose2sim 0.10.49 wheel (BSD-3-Clause, see LICENSE-pose2sim.txt). Needs the kit's .venv (pip).
# Source and copy are the same file, byte for byte: 1080x1920 (portrait), 100 frames at 60 fps, H.264, no audio.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
py="${PYTHON:-$here/../../.venv/bin/python}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$py" -m pip download --quiet --no-deps pose2sim==0.10.49 -d "$work"
(cd "$work" && "$py" -m zipfile -e pose2sim-0.10.49-py3-none-any.whl unpacked)
mkdir -p "$here/pose2sim_demo"
cp "$work/unpacked/Pose2Sim/Demo_SinglePerson/videos/cam01.mp4" "$here/pose2sim_demo/pose2sim_demo.mp4"
cp "$work/unpacked/pose2sim-0.10.49.dist-info/licenses/LICENSE" "$here/LICENSE-pose2sim.txt"
echo "wrote $here/pose2sim_demo/pose2sim_demo.mp4"
