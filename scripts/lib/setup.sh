# Shared setup for scripts/run and scripts/test: installs what is missing,
# and does nothing (quickly) when it is all there.

step() {
  local name="$1"; shift
  local t0=$SECONDS
  echo "==> $name"
  "$@"
  echo "<== $name ($((SECONDS - t0)) s)"
}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# apt_install PKG...: install the Debian packages that are not installed yet.
apt_install() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

setup_rust() {
  command -v cargo >/dev/null || { echo "cargo not found: install Rust from https://rustup.rs" >&2; exit 1; }
  if command -v rustup >/dev/null; then
    rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
    rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
  fi
}

# The desktop app (Tauri v2 on WebKitGTK) and its end-to-end tests: build
# headers, a virtual display, and WebKit's WebDriver.
setup_tauri_deps() {
  apt_install libwebkit2gtk-4.1-dev xvfb xauth webkit2gtk-driver
}

# The system's CJK font, what the desktop package depends on (fonts-noto-cjk),
# and fontconfig's tools (fc-list), which the app's end-to-end test uses to
# hide every CJK font from the app but its bundled one (tests/ui/glyphs.mjs).
setup_cjk_font() {
  apt_install fonts-noto-cjk fontconfig
}

# The web console's browser tests (issue 13): headless Chromium and its
# WebDriver from Debian, and a CJK font so Chinese pages render (and their
# screenshots can be read).
setup_chromium() {
  apt_install chromium chromium-driver
  setup_cjk_font
}

# The front end's npm packages (app/node_modules) from the lock file: `npm ci`
# only when the lock file changed since the last install.
setup_app_packages() {
  command -v npm >/dev/null || { echo "npm not found: install Node.js 20+" >&2; exit 1; }
  local stamp=app/node_modules/.jzqy-lock.sha256
  local want
  want=$(sha256sum app/package-lock.json | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    (cd app && npm ci --no-audit --no-fund --loglevel=error)
    echo "$want" >"$stamp"
  fi
}

# The front end (app/): its packages, then the build the Tauri shell embeds
# (app/dist).
setup_app() {
  setup_app_packages
  (cd app && npm run --silent build)
}

# Python fonttools (PyPI), which subsets the UI font (scripts/ui-font), in its
# own virtual environment; brotli for the WOFF2 it writes.
FONTTOOLS_VERSION=4.68.0
FONTTOOLS_VENV="${XDG_CACHE_HOME:-$HOME/.cache}/jzqy/fonttools-$FONTTOOLS_VERSION"
setup_fonttools() {
  if ! "$FONTTOOLS_VENV/bin/pyftsubset" --help >/dev/null 2>&1 || ! "$FONTTOOLS_VENV/bin/python" -c 'import brotli' 2>/dev/null; then
    rm -rf "$FONTTOOLS_VENV"
    python3 -m venv "$FONTTOOLS_VENV" 2>/dev/null || { apt_install python3-venv; python3 -m venv "$FONTTOOLS_VENV"; }
    "$FONTTOOLS_VENV/bin/pip" install -q --disable-pip-version-check "fonttools==$FONTTOOLS_VERSION" "brotli==1.2.1"
  fi
}

# tauri-driver: the WebDriver intermediary in front of WebKitWebDriver.
TAURI_DRIVER_VERSION=2.1.0
setup_tauri_driver() {
  local bin="${CARGO_HOME:-$HOME/.cargo}/bin/tauri-driver"
  if [ -x "$bin" ] && "$bin" --help >/dev/null 2>&1; then return; fi
  cargo install tauri-driver --locked --version "$TAURI_DRIVER_VERSION"
}

# The production twin's tests (issue 7) run against real servers they start
# themselves: PostgreSQL from Debian's binaries (a throwaway cluster on a
# loopback port) and moto_server, an S3-compatible server from PyPI that
# honours create-only writes. moto lives in its own virtualenv, on PATH.
MOTO_VERSION=5.2.1
MOTO_VENV="${XDG_CACHE_HOME:-$HOME/.cache}/jzqy/moto-$MOTO_VERSION"
# Schemathesis (PyPI), for the API fuzzing from the OpenAPI document, in
# its own virtual environment beside moto's.
SCHEMATHESIS_VERSION=4.32.5
SCHEMATHESIS_VENV="${HOME}/.cache/jzqy/schemathesis-${SCHEMATHESIS_VERSION}"
setup_schemathesis() {
  if ! "$SCHEMATHESIS_VENV/bin/st" --version >/dev/null 2>&1; then
    rm -rf "$SCHEMATHESIS_VENV"
    python3 -m venv "$SCHEMATHESIS_VENV" 2>/dev/null || { apt_install python3-venv; python3 -m venv "$SCHEMATHESIS_VENV"; }
    "$SCHEMATHESIS_VENV/bin/pip" install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION" cryptography
  fi
}

# Python's bagit (PyPI), an independent BagIt (RFC 8493) validator the
# archive test runs on every exported bag (issue 18).
BAGIT_VERSION=1.9.0
BAGIT_VENV="${HOME}/.cache/jzqy/bagit-${BAGIT_VERSION}"
setup_bagit() {
  if ! "$BAGIT_VENV/bin/bagit.py" --version >/dev/null 2>&1; then
    rm -rf "$BAGIT_VENV"
    python3 -m venv "$BAGIT_VENV" 2>/dev/null || { apt_install python3-venv; python3 -m venv "$BAGIT_VENV"; }
    "$BAGIT_VENV/bin/pip" install -q --disable-pip-version-check "bagit==$BAGIT_VERSION"
  fi
  export PATH="$BAGIT_VENV/bin:$PATH"
}

setup_storage_services() {
  apt_install postgresql
  if ! "$MOTO_VENV/bin/moto_server" --help >/dev/null 2>&1; then
    rm -rf "$MOTO_VENV"
    python3 -m venv "$MOTO_VENV" 2>/dev/null || { apt_install python3-venv; python3 -m venv "$MOTO_VENV"; }
    "$MOTO_VENV/bin/pip" install -q --disable-pip-version-check "moto[server]==$MOTO_VERSION"
  fi
  export PATH="$MOTO_VENV/bin:$PATH"
}
