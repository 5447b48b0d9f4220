#!/bin/sh
# Makes throwaway TLS material for tests in DIR (created if missing), with openssl:
#   ca.pem, ca.key                 a test CA
#   server.pem, server.key         signed by it, for localhost, 127.0.0.1 and ::1
#   client.pem, client.key         a client certificate signed by it (mutual TLS)
#   other-ca.pem                   a second CA ...
#   other-server.pem/.key          ... and a server certificate it signed (rotation tests)
#   other-client.pem/.key          ... and a client certificate it signed (wrong client)
# EC P-256 keys and 2-day validity: quick to make, never worth stealing.
set -eu
dir=$1
mkdir -p "$dir"
cd "$dir"
days=2
key() { openssl ecparam -name prime256v1 -genkey -noout -out "$1" 2>/dev/null; }
ca() { # NAME SUBJECT
  key "$1.key"
  openssl req -x509 -new -key "$1.key" -sha256 -days $days -subj "/CN=$2" -out "$1.pem" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
}
leaf() { # NAME CA SUBJECT EXTENSIONS
  key "$1.key"
  openssl req -new -key "$1.key" -subj "/CN=$3" -out "$1.csr"
  printf '%s\n' "$4" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -days $days \
    -sha256 -extfile "$1.ext" -out "$1.pem" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}
server_ext='subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1
extendedKeyUsage=serverAuth
keyUsage=critical,digitalSignature'
client_ext='extendedKeyUsage=clientAuth
keyUsage=critical,digitalSignature'
ca ca "hubstats test CA"
leaf server ca localhost "$server_ext"
leaf client ca "hubstats test client" "$client_ext"
ca other-ca "another test CA"
leaf other-server other-ca localhost "$server_ext"
leaf other-client other-ca "another test client" "$client_ext"
rm -f ./*.srl
