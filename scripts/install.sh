#!/usr/bin/env bash
# Install the SMS gateway as a systemd service: a virtual environment under PREFIX (every
# dependency at the version and hash pinned in requirements.lock), the unit,
# the udev rules, the serial driver list and a sample /etc/sms-gateway/config.yaml (an existing
# config is never overwritten). Creates the sms-gateway user and reloads udev and systemd
# unless DESTDIR is set (a staging root, as used by packagers and the test suite).
#
#   sudo scripts/install.sh                 # or: sudo make install
#   DESTDIR=/tmp/root scripts/install.sh --no-venv
set -euo pipefail

usage() {
    cat <<'USAGE'
Usage: scripts/install.sh [--no-venv] [--python PYTHON] [--pip-args "ARGS"]
  --no-venv         do not create the virtual environment (the package is installed otherwise)
  --python PYTHON   interpreter for the virtual environment (default: python3, 3.11 or newer)
  --pip-args ARGS   extra arguments for pip, e.g. "--no-index --find-links /srv/wheels"
Environment: DESTDIR (staging root, default none), PREFIX (default /opt/sms-gateway)
USAGE
}

SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DESTDIR="${DESTDIR:-}"
PREFIX="${PREFIX:-/opt/sms-gateway}"
PYTHON="${PYTHON:-python3}"
PIP_ARGS=""
WITH_VENV=1
SERVICE_USER=sms-gateway

while (($#)); do
    case "$1" in
        --no-venv) WITH_VENV=0 ;;
        --python) PYTHON="$2"; shift ;;
        --pip-args) PIP_ARGS="$2"; shift ;;
        -h | --help) usage; exit 0 ;;
        *) echo "install.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done

case "$PREFIX" in
    /*) ;;
    *) echo "install.sh: PREFIX must be an absolute path (got $PREFIX)" >&2; exit 2 ;;
esac

ROOT="${DESTDIR%/}"
say() { printf 'install.sh: %s\n' "$*"; }

# 1. The program, in its own virtual environment.
if ((WITH_VENV)); then
    if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        echo "install.sh: $PYTHON is older than Python 3.11" >&2
        exit 1
    fi
    say "virtual environment $ROOT$PREFIX/venv"
    "$PYTHON" -m venv "$ROOT$PREFIX/venv"
    pip=("$ROOT$PREFIX/venv/bin/python" -m pip install --quiet --disable-pip-version-check)
    # The tested set of dependencies, each checked against its hash; then the program itself.
    # shellcheck disable=SC2086  # PIP_ARGS is a list of words on purpose
    "${pip[@]}" $PIP_ARGS --require-hashes -r "$SRC/requirements.lock"
    # shellcheck disable=SC2086
    "${pip[@]}" $PIP_ARGS --force-reinstall --no-deps "$SRC"
fi
install -d -m 0755 "$ROOT$PREFIX/docs" "$ROOT$PREFIX/share"
install -m 0644 "$SRC/docs/ADMIN.md" "$ROOT$PREFIX/docs/ADMIN.md"
install -m 0644 "$SRC/examples/config.sample.yaml" "$ROOT$PREFIX/share/config.sample.yaml"

# 2. systemd unit (pointing at PREFIX) and the serial drivers it needs loaded at boot.
install -d -m 0755 "$ROOT/etc/systemd/system" "$ROOT/etc/modules-load.d"
sed "s|/opt/sms-gateway|$PREFIX|g" "$SRC/systemd/sms-gateway.service" \
    >"$ROOT/etc/systemd/system/sms-gateway.service"
chmod 0644 "$ROOT/etc/systemd/system/sms-gateway.service"
install -m 0644 "$SRC/systemd/sms-gateway-modules.conf" "$ROOT/etc/modules-load.d/sms-gateway.conf"

# 3. udev rules: modem AT ports under /dev/gsm, hidden from ModemManager.
install -d -m 0755 "$ROOT/etc/udev/rules.d"
install -m 0644 "$SRC/udev/99-sms-gateway.rules" "$ROOT/etc/udev/rules.d/99-sms-gateway.rules"

# 4. The system user, before the config so the config can belong to its group.
if [[ -z "$ROOT" ]] && ! getent passwd "$SERVICE_USER" >/dev/null; then
    say "creating system user $SERVICE_USER"
    useradd --system --user-group --groups dialout --home-dir /var/lib/sms-gateway \
        --no-create-home --shell /usr/sbin/nologin --comment "SMS gateway" "$SERVICE_USER"
fi

# 5. Configuration: the sample on first install only. It may hold a SIM PIN and webhook
# secrets, so only root and the service's group read it.
install -d -m 0750 "$ROOT/etc/sms-gateway"
config="$ROOT/etc/sms-gateway/config.yaml"
if [[ -e "$config" ]]; then
    say "keeping existing $config"
else
    install -m 0640 "$SRC/examples/config.sample.yaml" "$config"
    say "installed sample $config: edit it, then run sms-gateway check-config"
fi
if [[ -z "$ROOT" ]]; then
    chown "root:$SERVICE_USER" "$ROOT/etc/sms-gateway" "$config"
fi

# 6. Let udev and systemd see the new files (only on the live system).
if [[ -z "$ROOT" ]]; then
    if command -v udevadm >/dev/null && [[ -d /run/udev ]]; then
        udevadm control --reload
        udevadm trigger --action=add --subsystem-match=usb --subsystem-match=tty
    fi
    if command -v modprobe >/dev/null; then
        modprobe -a usbserial option cdc_acm 2>/dev/null || true
    fi
    if [[ -d /run/systemd/system ]]; then
        systemctl daemon-reload
    fi
    say "done. Next: edit /etc/sms-gateway/config.yaml, then"
    say "  $PREFIX/venv/bin/sms-gateway check-config --config /etc/sms-gateway/config.yaml"
    say "  systemctl enable --now sms-gateway"
fi
