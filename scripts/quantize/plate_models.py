"""Makes the float and the int8 plate models from the shipped YOLOv9-t plate detector.

    python3 scripts/quantize/plate_models.py --source MODEL_DIR/yolo-v9-t-416-license-plates-end2end1.onnx \
        --out-dir DIR --photos ../shared/fixtures [--calibration scripts/quantize/calibration.txt]

Writes into DIR:
  yolov9-t-plates-float.onnx             every ConvInteger chain folded back into a float Conv (rebuild_float.py)
  yolov9-t-plates-int8.onnx              static QDQ of that float model: uint8 activations, int8 per-channel
                                         weights, MinMax ranges over the calibration photos (whole and centre
                                         crops, mirrored); the stem conv (model.0), the detection head
                                         (model.22) and the NMS tail (end2end) stay float
  yolov9-t-plates-*.provenance.json      what each file was made from and how (source sha256, tool versions,
                                         calibration photos with their sha256, the nodes left in float)

Deterministic: photos in the listed order, MinMax calibration. The float file
is exact arithmetic on the source's weights; the int8 file's scales come from float inference, so a
CPU with other kernels may differ in their last bits (the provenance record says which CPU made it).
pixveil models quantize runs this script (README, "Models").
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import sys
import tempfile
from pathlib import Path

try:
    import numpy as np
    import onnx
    import onnxruntime as ort
    from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process
    from PIL import Image, ImageOps
except ImportError as err:
    raise SystemExit(f"{err}: install the pinned packages with \"{sys.executable} -m pip install -r {Path(__file__).resolve().parent / 'requirements.txt'}\"")

sys.path.insert(0, str(Path(__file__).resolve().parent))
from rebuild_float import rebuild_float  # noqa: E402

FLOAT_FILE = "yolov9-t-plates-float.onnx"
INT8_FILE = "yolov9-t-plates-int8.onnx"
SOURCE_MANIFEST = "yolov9-t-plates"
# The detection head and the NMS tail: quantized, the box/score decode loses every plate. The stem
# convolution (3 input channels, where int8 gains least and its rounding reaches every later layer).
FLOAT_SCOPES = ("/model.0/", "/model.22/", "/end2end/")
INPUT_SIZE = 416
PAD_VALUE = 114  # as models/yolov9-t-plates.json: letterboxed, centred, pad 114, RGB / 255


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def upright_rgb(path: Path) -> Image.Image:
    with Image.open(path) as im:
        return ImageOps.exif_transpose(im).convert("RGB")


def calibration_views(path: Path) -> list[np.ndarray]:
    """What the pipeline feeds the model from such a photo: the whole frame, and a vehicle-crop-like
    view (the centre half, where these photos have their car, so its plate fills more of the input);
    each also mirrored. Four inputs per photo, always in this order."""
    image = upright_rgb(path)
    w, h = image.size
    centre = image.crop((w // 4, h // 4, w - w // 4, h - h // 4))
    return [letterbox(v) for v in (image, ImageOps.mirror(image), centre, ImageOps.mirror(centre))]


def letterbox(image: Image.Image | Path) -> np.ndarray:
    """The model input the pipeline builds for an image: [1, 3, 416, 416] float32, RGB / 255."""
    if isinstance(image, Path):
        image = upright_rgb(image)
    scale = min(INPUT_SIZE / image.width, INPUT_SIZE / image.height)
    w, h = max(1, round(image.width * scale)), max(1, round(image.height * scale))
    resized = image.resize((w, h), Image.Resampling.BILINEAR)
    canvas = Image.new("RGB", (INPUT_SIZE, INPUT_SIZE), (PAD_VALUE,) * 3)
    canvas.paste(resized, ((INPUT_SIZE - w) // 2, (INPUT_SIZE - h) // 2))
    tensor = np.asarray(canvas, dtype=np.float32).transpose(2, 0, 1) / 255.0
    return tensor[np.newaxis].copy()


class PhotoReader(CalibrationDataReader):
    def __init__(self, input_name: str, photos: list[Path]):
        self.input_name = input_name
        self.inputs = (view for photo in photos for view in calibration_views(photo))

    def get_next(self):
        view = next(self.inputs, None)
        return None if view is None else {self.input_name: view}


def read_calibration_list(list_file: Path, photos_root: Path) -> list[Path]:
    photos = []
    for line in list_file.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        photo = photos_root / line
        if not photo.is_file():
            raise SystemExit(f"calibration photo {photo} is missing (listed in {list_file}; --photos sets the folder)")
        photos.append(photo)
    if not photos:
        raise SystemExit(f"{list_file} lists no calibration photos")
    return photos


def tool_versions() -> dict:
    import PIL

    return {
        "python": platform.python_version(),
        "onnx": onnx.__version__,
        "onnxruntime": ort.__version__,
        "numpy": np.__version__,
        "pillow": PIL.__version__,
    }


def warn_unpinned(versions: dict, requirements: Path) -> None:
    """The files' bytes depend on these versions: say so when they are not the pinned ones."""
    for line in requirements.read_text().splitlines():
        name, _, pinned = line.partition("==")
        if pinned and name in versions and versions[name] != pinned.strip():
            print(f"warning: {name} {versions[name]} is not the pinned {pinned.strip()} ({requirements}): the files may differ from the reference build", file=sys.stderr)


def cpu_description() -> dict:
    model, flags = platform.processor() or platform.machine(), []
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and model in ("", platform.machine()):
                model = line.split(":", 1)[1].strip()
            if line.startswith("flags"):
                flags = line.split(":", 1)[1].split()
                break
    except OSError:
        pass
    wanted = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8")
    return {"model": model, "machine": platform.machine(), "int8_flags": [f for f in wanted if f in flags]}


def write_json(path: Path, record: dict) -> None:
    path.write_text(json.dumps(record, indent=2) + "\n")


def make_float(source: Path, target: Path) -> int:
    model, folded = rebuild_float(onnx.load(str(source)))
    model.producer_name = "pixveil scripts/quantize/rebuild_float.py"
    model.producer_version = "1"
    onnx.checker.check_model(model)
    onnx.save(model, str(target))
    return folded


def make_int8(float_model: Path, target: Path, photos: list[Path], work: Path) -> list[str]:
    prepared = work / "prepared.onnx"
    # Shape inference + graph clean-up that quantize_static expects (onnxruntime's recommended step).
    quant_pre_process(str(float_model), str(prepared), skip_symbolic_shape=True)
    model = onnx.load(str(prepared))
    in_float = sorted(n.name for n in model.graph.node if any(scope in n.name for scope in FLOAT_SCOPES))
    quantize_static(
        str(prepared),
        str(target),
        PhotoReader(model.graph.input[0].name, photos),
        quant_format=QuantFormat.QDQ,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        per_channel=True,
        calibrate_method=CalibrationMethod.MinMax,
        nodes_to_exclude=in_float,
    )
    return in_float


def main() -> None:
    here = Path(__file__).resolve().parent
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", required=True, type=Path, help="the shipped plate model (yolo-v9-t-416-license-plates-end2end1.onnx)")
    parser.add_argument("--source-sha256", help="refuse a source whose sha256 differs (the manifest's)")
    parser.add_argument("--out-dir", required=True, type=Path)
    parser.add_argument("--photos", required=True, type=Path, help="folder the calibration list is relative to")
    parser.add_argument("--calibration", type=Path, default=here / "calibration.txt")
    args = parser.parse_args()

    source_sha = sha256(args.source)
    if args.source_sha256 and source_sha != args.source_sha256:
        raise SystemExit(f"{args.source} has sha256 {source_sha}, expected {args.source_sha256}")
    photos = read_calibration_list(args.calibration, args.photos)
    warn_unpinned(tool_versions(), here / "requirements.txt")
    args.out_dir.mkdir(parents=True, exist_ok=True)

    common = {
        "from": {"manifest": SOURCE_MANIFEST, "file": args.source.name, "sha256": source_sha},
        "script": "scripts/quantize/plate_models.py",
        "tools": tool_versions(),
        "cpu": cpu_description(),
    }
    with tempfile.TemporaryDirectory(dir=args.out_dir, prefix=".quantize-") as tmp:
        work = Path(tmp)
        float_tmp, int8_tmp = work / FLOAT_FILE, work / INT8_FILE
        folded = make_float(args.source, float_tmp)
        in_float = make_int8(float_tmp, int8_tmp, photos, work)
        q = onnx.load(str(int8_tmp))
        quantized = sum(1 for n in q.graph.node if n.op_type == "QuantizeLinear")
        float_record = {
            **common,
            "file": FLOAT_FILE,
            "sha256": sha256(float_tmp),
            "precision": "float",
            "method": f"{folded} DynamicQuantizeLinear -> ConvInteger/MatMulInteger -> Cast -> Mul [-> Add] chains folded into float Conv/MatMul with the dequantized weights and bias",
        }
        int8_record = {
            **common,
            "file": INT8_FILE,
            "sha256": sha256(int8_tmp),
            "precision": "int8",
            "method": "static QDQ of the float model (onnxruntime.quantization.quantize_static after quant_pre_process): uint8 activations, int8 per-channel weights, MinMax calibration",
            "calibration": {
                "list": str(args.calibration.name),
                "photos": [{"file": str(p.relative_to(args.photos)), "sha256": sha256(p)} for p in photos],
                "inputs": f"4 per photo: whole, mirrored, centre half, centre half mirrored; each letterboxed to {INPUT_SIZE}x{INPUT_SIZE}, centred, pad {PAD_VALUE}, RGB / 255",
            },
            "quantize_linear_nodes": quantized,
            "float_scopes": list(FLOAT_SCOPES),
            "nodes_left_in_float": in_float,
        }
        # The records last: a model file without its record is not taken as made (pixveil checks both).
        for tmp_file, record in ((float_tmp, float_record), (int8_tmp, int8_record)):
            os.replace(tmp_file, args.out_dir / record["file"])
        for record in (float_record, int8_record):
            write_json(args.out_dir / (record["file"].removesuffix(".onnx") + ".provenance.json"), record)
    print(f"wrote {args.out_dir / FLOAT_FILE} ({folded} chains folded) and {args.out_dir / INT8_FILE} "
          f"({quantized} QuantizeLinear, {len(in_float)} nodes left in float), calibrated on {len(photos)} photos")


if __name__ == "__main__":
    main()
