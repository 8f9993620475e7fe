#!/usr/bin/env python3
"""Acceptance check of fake-azure against a real client: Microsoft's MSAL for Python.

Run by the ignored Rust test `crates/fake-azure/tests/msal.rs` (see scripts/msal-check.sh),
which starts the fake, creates the identities and passes them in environment variables:

  MSAL_AUTHORITY        https://login.localhost:PORT/<tenant GUID>
  MSAL_CA               PEM file of the fake's test CA
  MSAL_SP_CLIENT_ID     service principal with a client secret ...
  MSAL_SP_SECRET        ... and its secret
  MSAL_CERT_CLIENT_ID   service principal with a certificate ...
  MSAL_CERT_PEM         ... the certificate + PKCS#8 private key in one PEM file ...
  MSAL_CERT_THUMBPRINT  ... and the certificate's SHA-1 thumbprint (hex)
  MSAL_PUBLIC_CLIENT_ID a public client (the Azure CLI's)
  MSAL_USER_RT          a user refresh token issued to that public client

Checks, each must succeed (one line printed per check; exit status 1 with MSAL's error on the
first failure):
  (a)  ConfidentialClientApplication + secret      -> acquire_token_for_client (ACR scope)
  (b)  ConfidentialClientApplication + certificate -> same; SHA-1 thumbprint => RS256 + x5t
  (b2) same with the public certificate instead    -> PS256 + x5t#S256
  (c)  PublicClientApplication.acquire_token_by_refresh_token (ARM scope) -> access token and a
       new refresh token
  (d)  device code flow: initiate_device_flow + acquire_token_by_device_flow (the fake
       auto-approves after one pending poll; interval 1 s)
  (e)  authorization code + PKCE: initiate_auth_code_flow (loopback redirect), the browser step
       done with requests (the fake signs in its "browser user" and answers 302), then
       acquire_token_by_auth_code_flow (MSAL checks the state, sends the verifier, checks the
       id token's nonce)

Name resolution: glibc does not resolve `*.localhost` to loopback (RFC 6761 leaves that to the
resolver), so this script patches `socket.getaddrinfo` to map `localhost` and `*.localhost` to
127.0.0.1. TLS: a `requests.Session` trusting only the fake's CA is handed to MSAL
(`http_client=`), with `trust_env = False` so no proxy from the environment is used.
"""

import json
import os
import socket
import sys
import time
from urllib.parse import parse_qsl, urlsplit

import msal
import requests

ACR_SCOPE = "https://containerregistry.azure.net/.default"
ARM_SCOPE = "https://management.core.windows.net//.default"

_real_getaddrinfo = socket.getaddrinfo


def _loopback_getaddrinfo(host, *args, **kwargs):
    name = host.decode() if isinstance(host, bytes) else host
    if isinstance(name, str) and (name == "localhost" or name.endswith(".localhost")):
        host = "127.0.0.1"
    return _real_getaddrinfo(host, *args, **kwargs)


socket.getaddrinfo = _loopback_getaddrinfo


def env(name):
    value = os.environ.get(name)
    if not value:
        sys.exit(f"msal_check: environment variable {name} is not set")
    return value


def session():
    s = requests.Session()
    s.verify = env("MSAL_CA")
    s.trust_env = False
    return s


def common_kwargs():
    return {
        "authority": env("MSAL_AUTHORITY"),
        "http_client": session(),
        "validate_authority": False,
        "instance_discovery": False,
    }


def check(label, result, *required):
    if not isinstance(result, dict) or "error" in result or not result.get("access_token"):
        print(f"FAIL {label}: {json.dumps(result, indent=2, default=str)}", file=sys.stderr)
        sys.exit(1)
    for key in required:
        if not result.get(key):
            print(f"FAIL {label}: no {key} in {sorted(result)}", file=sys.stderr)
            sys.exit(1)
    print(f"ok   {label}: token_type={result.get('token_type')} expires_in={result.get('expires_in')}")


def pem_block(text, kind):
    begin, end = f"-----BEGIN {kind}-----", f"-----END {kind}-----"
    start = text.index(begin)
    return text[start:text.index(end, start) + len(end)] + "\n"


def main():
    print(f"msal {msal.__version__}")

    secret_app = msal.ConfidentialClientApplication(
        env("MSAL_SP_CLIENT_ID"), client_credential=env("MSAL_SP_SECRET"), **common_kwargs())
    check("(a) client secret -> acquire_token_for_client",
          secret_app.acquire_token_for_client(scopes=[ACR_SCOPE]))

    with open(env("MSAL_CERT_PEM"), encoding="utf-8") as f:
        combined = f.read()
    private_key = pem_block(combined, "PRIVATE KEY")
    cert_app = msal.ConfidentialClientApplication(
        env("MSAL_CERT_CLIENT_ID"),
        client_credential={"private_key": private_key, "thumbprint": env("MSAL_CERT_THUMBPRINT")},
        **common_kwargs())
    check("(b) certificate, SHA-1 thumbprint (RS256, x5t) -> acquire_token_for_client",
          cert_app.acquire_token_for_client(scopes=[ACR_SCOPE]))

    ps_app = msal.ConfidentialClientApplication(
        env("MSAL_CERT_CLIENT_ID"),
        client_credential={
            "private_key": private_key,
            "public_certificate": pem_block(combined, "CERTIFICATE"),
        },
        **common_kwargs())
    check("(b2) certificate, public_certificate (PS256, x5t#S256) -> acquire_token_for_client",
          ps_app.acquire_token_for_client(scopes=[ACR_SCOPE]))

    public_app = msal.PublicClientApplication(env("MSAL_PUBLIC_CLIENT_ID"), **common_kwargs())
    result = public_app.acquire_token_by_refresh_token(env("MSAL_USER_RT"), scopes=[ARM_SCOPE])
    check("(c) acquire_token_by_refresh_token", result, "refresh_token")
    if result["refresh_token"] == env("MSAL_USER_RT"):
        print("FAIL (c): the refresh token was not rotated", file=sys.stderr)
        sys.exit(1)

    flow = public_app.initiate_device_flow(scopes=[ARM_SCOPE])
    if "user_code" not in flow:
        print(f"FAIL (d) initiate_device_flow: {flow}", file=sys.stderr)
        sys.exit(1)
    # Never hang for 15 min; the fake approves at the second poll, so this only bounds a hang.
    flow["expires_at"] = min(flow["expires_at"], time.time() + 120)
    check("(d) device code flow", public_app.acquire_token_by_device_flow(flow),
          "refresh_token", "id_token")

    redirect_uri = "http://localhost:53123"
    flow = public_app.initiate_auth_code_flow(scopes=[ARM_SCOPE], redirect_uri=redirect_uri)
    answer = session().get(flow["auth_uri"], allow_redirects=False)
    location = answer.headers.get("Location", "")
    if answer.status_code != 302 or not location.startswith(redirect_uri + "/?"):
        print(f"FAIL (e) authorize: {answer.status_code} {location}", file=sys.stderr)
        sys.exit(1)
    auth_response = dict(parse_qsl(urlsplit(location).query))
    check("(e) authorization code + PKCE",
          public_app.acquire_token_by_auth_code_flow(flow, auth_response),
          "refresh_token", "id_token")
    print("msal_check: all checks passed")


if __name__ == "__main__":
    main()
