#!/usr/bin/env bash
# Builds the hubstats container image (Dockerfile) with podman and prints its size. Needs no
# Docker engine and no image registry: when the Debian 12 base image is missing it is made with
# debootstrap and imported into podman. Run as root (debootstrap and podman's root storage).
#
#   IMAGE        tag of the image to build [localhost/hubstats:latest]
#   BASE_IMAGE   the Debian 12 base image; made when missing [localhost/hubstats-base:bookworm]
#   DEBIAN_MIRROR  mirror for debootstrap [debootstrap's default]
#   CONTAINERS_CONF  podman settings [deploy/podman/containers.conf]
#   further arguments go to `podman build` (e.g. --layers=false)
set -euo pipefail
cd "$(dirname "$0")/.."
image=${IMAGE:-localhost/hubstats:latest}
base_image=${BASE_IMAGE:-localhost/hubstats-base:bookworm}
export CONTAINERS_CONF=${CONTAINERS_CONF:-$PWD/deploy/podman/containers.conf}

for tool in podman runc debootstrap; do
  command -v "$tool" >/dev/null 2>&1 ||
    { echo "image.sh: $tool is missing: run scripts/install-deps.sh" >&2; exit 1; }
done

# A minimal Debian 12 root filesystem, trimmed like Debian's -slim images (no manuals, docs or
# translations, now or from later installs), with the updates and security suites enabled.
make_base_image() {
  local root
  root=$(mktemp -d /var/tmp/hubstats-base.XXXXXX)
  # shellcheck disable=SC2064
  trap "rm -rf '$root'" RETURN
  echo "image.sh: making $base_image with debootstrap (about a minute)" >&2
  debootstrap --variant=minbase bookworm "$root" ${DEBIAN_MIRROR:+"$DEBIAN_MIRROR"} >/dev/null
  local mirror
  mirror=$(awk '$1 == "deb" { print $2; exit }' "$root/etc/apt/sources.list")
  cat >"$root/etc/apt/sources.list" <<EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb ${mirror%/}-security bookworm-security main
EOF
  cat >"$root/etc/dpkg/dpkg.cfg.d/slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/lintian/*
EOF
  find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  rm -rf "$root"/usr/share/{man,info,locale,groff,lintian}/* "$root"/var/lib/apt/lists/* \
    "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb "$root"/var/log/*.log \
    "$root"/var/log/apt/* "$root"/tmp/*
  tar -C "$root" -c . | podman import --quiet \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' --message "debootstrap --variant=minbase bookworm" - "$base_image" \
    >/dev/null
}

podman image exists "$base_image" || make_base_image

# --network host: apt inside the build reaches Debian's mirrors without a container network.
podman build --pull=never --network host --build-arg "BASE_IMAGE=$base_image" --tag "$image" \
  "$@" .
size=$(podman image inspect --format '{{.Size}}' "$image")
echo "image.sh: $image is $((size / 1000000)) MB"
