#!/usr/bin/env bash
# Remove what scripts/install.sh installed. The configuration (/etc/sms-gateway), the data
# (/var/lib/sms-gateway, the database) and the sms-gateway user stay unless --purge is given.
#
#   sudo scripts/uninstall.sh [--purge]     # or: sudo make uninstall
set -euo pipefail

DESTDIR="${DESTDIR:-}"
PREFIX="${PREFIX:-/opt/sms-gateway}"
PURGE=0
SERVICE_USER=sms-gateway

while (($#)); do
    case "$1" in
        --purge) PURGE=1 ;;
        -h | --help) echo "Usage: scripts/uninstall.sh [--purge]"; exit 0 ;;
        *) echo "uninstall.sh: unknown argument: $1" >&2; exit 2 ;;
    esac
    shift
done
case "$PREFIX" in
    /?*) ;;
    *) echo "uninstall.sh: PREFIX must be an absolute path other than / (got $PREFIX)" >&2; exit 2 ;;
esac

ROOT="${DESTDIR%/}"
say() { printf 'uninstall.sh: %s\n' "$*"; }

if [[ -z "$ROOT" && -d /run/systemd/system ]]; then
    systemctl disable --now sms-gateway.service 2>/dev/null || true
fi

rm -f "$ROOT/etc/systemd/system/sms-gateway.service" \
    "$ROOT/etc/modules-load.d/sms-gateway.conf" \
    "$ROOT/etc/udev/rules.d/99-sms-gateway.rules"
rm -rf "$ROOT$PREFIX"

if ((PURGE)); then
    say "purging configuration, data and logs"
    rm -rf "$ROOT/etc/sms-gateway" "$ROOT/var/lib/sms-gateway" "$ROOT/var/log/sms-gateway"
    if [[ -z "$ROOT" ]] && getent passwd "$SERVICE_USER" >/dev/null; then
        userdel "$SERVICE_USER"
    fi
else
    say "kept /etc/sms-gateway and /var/lib/sms-gateway (use --purge to remove them)"
fi

if [[ -z "$ROOT" ]]; then
    if command -v udevadm >/dev/null && [[ -d /run/udev ]]; then
        udevadm control --reload
    fi
    if [[ -d /run/systemd/system ]]; then
        systemctl daemon-reload
    fi
fi
