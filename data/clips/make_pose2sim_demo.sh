#!/usr/bin/env bash
# Rebuild the two clips taken from the pose2sim 0.10.49 wheel (BSD-3-Clause, see LICENSE-pose2sim.txt), each the
# source file byte for byte (portrait, 100 frames at 60 fps, H.264, no audio). Needs the kit's .venv (pip).
#   pose2sim_demo/pose2sim_demo.mp4: the first camera of the single-person demo (1080x1920)
#   pose2sim_multiperson/pose2sim_multiperson.mp4: the fourth camera of the multi-person demo (1088x1920)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
py="${PYTHON:-$here/../../.venv/bin/python}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$py" -m pip download --quiet --no-deps pose2sim==0.10.49 -d "$work"
(cd "$work" && "$py" -m zipfile -e pose2sim-0.10.49-py3-none-any.whl unpacked)
mkdir -p "$here/pose2sim_demo" "$here/pose2sim_multiperson"
cp "$work/unpacked/Pose2Sim/Demo_SinglePerson/videos/cam01.mp4" "$here/pose2sim_demo/pose2sim_demo.mp4"
cp "$work/unpacked/Pose2Sim/Demo_MultiPerson/videos/cam04.mp4" "$here/pose2sim_multiperson/pose2sim_multiperson.mp4"
cp "$work/unpacked/pose2sim-0.10.49.dist-info/licenses/LICENSE" "$here/LICENSE-pose2sim.txt"
echo "wrote $here/pose2sim_demo/pose2sim_demo.mp4 and $here/pose2sim_multiperson/pose2sim_multiperson.mp4"
