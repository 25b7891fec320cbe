#!/usr/bin/env python3
"""Prints a reverse-ajax token (an HS256 JWT) using only Python's standard library.

    SECRET=… scripts/make-token.py --publish 'team-*' --subscribe private-ada --ttl 3600

SECRET is the server's [auth] secret. `cargo run -- token` makes the same tokens.
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import sys
import time


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def main() -> int:
    parser = argparse.ArgumentParser(description="Print a signed reverse-ajax token.")
    parser.add_argument("--publish", action="append", default=[], metavar="PATTERN")
    parser.add_argument("--subscribe", action="append", default=[], metavar="PATTERN")
    parser.add_argument("--ttl", type=int, default=3600, help="seconds the token is valid")
    parser.add_argument("--sub", help="who holds the token")
    args = parser.parse_args()
    secret = os.environ.get("SECRET")
    if not secret:
        print("set SECRET to the server's [auth] secret", file=sys.stderr)
        return 2
    claims = {
        "exp": int(time.time()) + args.ttl,
        "channels": {"publish": args.publish, "subscribe": args.subscribe},
    }
    if args.sub:
        claims["sub"] = args.sub
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps(claims).encode())
    signed = f"{header}.{body}".encode()
    signature = b64(hmac.new(secret.encode(), signed, hashlib.sha256).digest())
    print(f"{header}.{body}.{signature}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
