#!/usr/bin/env python3
"""Rebuild data/postal/ from two pinned registry packages.

    python3 scripts/build-postal-data.py            # writes data/postal/XX.txt.gz
    python3 scripts/build-postal-data.py --check    # rebuilds into a temporary
                                                    # directory and compares bytes

Sources (see data/README.md for their licences):
  - npm  zipcodes@8.0.0 (BSD): US ZIP codes and Canadian forward sortation areas,
    with city, state and coordinates. Used for US and CA.
  - PyPI countrystatecity-postal-codes==2.0.1 (ODbL 1.0): every other country.
    Its US records carry no place names, so US and CA come from zipcodes instead.

Output: one gzip file per country in the GeoNames postal-code dump layout, twelve
tab-separated columns: country code, postal code, place name, admin name1,
admin code1, admin name2, admin code2, admin name3, admin code3, latitude,
longitude, accuracy. Columns the sources do not have are left empty.

The build is reproducible: the packages are checked against pinned SHA-256
digests, rows are sorted, and the gzip headers carry no time stamp or file name,
so the same inputs always give the same bytes. Needs python3, npm and pip.
"""

import argparse
import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

ZIPCODES = ("zipcodes", "8.0.0",
            "937a101bcc6d6dd1e126fd6582cffefa7bb2578eac2d14ad9746661004578040")
CSC = ("countrystatecity-postal-codes", "2.0.1",
       "45151efce4258500df6a696dd72c938a358dff82042e1f205effc64f18f7c6c6")

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "data" / "postal"

# Canadian provinces and territories by the first letter of the FSA (the letter
# fixes the province, except X, which Nunavut and the Northwest Territories share).
CA_BY_LETTER = {
    "A": "NL", "B": "NS", "C": "PE", "E": "NB", "G": "QC", "H": "QC", "J": "QC",
    "K": "ON", "L": "ON", "M": "ON", "N": "ON", "P": "ON", "R": "MB", "S": "SK",
    "T": "AB", "V": "BC", "X": "NT", "Y": "YT",
}
CA_NAMES = {
    "AB": "Alberta", "BC": "British Columbia", "MB": "Manitoba", "NB": "New Brunswick",
    "NL": "Newfoundland and Labrador", "NS": "Nova Scotia", "NT": "Northwest Territories",
    "NU": "Nunavut", "ON": "Ontario", "PE": "Prince Edward Island", "QC": "Quebec",
    "SK": "Saskatchewan", "YT": "Yukon",
}
SMALL_WORDS = {"of", "and"}


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch(tmp):
    """Downloads both packages with the registries' own clients and checks them."""
    name, version, digest = ZIPCODES
    subprocess.run(["npm", "pack", f"{name}@{version}", "--pack-destination", tmp],
                   check=True, stdout=subprocess.DEVNULL)
    tgz = Path(tmp) / f"{name}-{version}.tgz"
    name2, version2, digest2 = CSC
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                    f"{name2}=={version2}", "-d", tmp], check=True)
    whl = next(Path(tmp).glob("countrystatecity_postal_codes-*.whl"))
    for path, want in ((tgz, digest), (whl, digest2)):
        got = sha256(path)
        if got != want:
            sys.exit(f"{path.name}: sha256 {got}, expected {want}; refusing to build")
    return tgz, whl


def js_object(text, name):
    """The JSON object assigned by `exports.<name> = {...};` in a zipcodes module."""
    marker = f"exports.{name} = "
    start = text.index(marker) + len(marker)
    value, _ = json.JSONDecoder().raw_decode(text, start)
    return value


def title(name):
    words = name.lower().split()
    return " ".join(w if i and w in SMALL_WORDS else w.capitalize() for i, w in enumerate(words))


def coord(value):
    if value is None:
        return ""
    return f"{float(value):.5f}".rstrip("0").rstrip(".")


def row(country, code, place="", admin1="", code1="", lat=None, lng=None):
    clean = [str(v or "").replace("\t", " ").replace("\n", " ").strip()
             for v in (country, code, place, admin1, code1)]
    return clean + ["", "", "", "", coord(lat), coord(lng), ""]


def from_zipcodes(tgz):
    rows = {"US": [], "CA": []}
    with tarfile.open(tgz) as tar:
        read = lambda p: tar.extractfile(f"package/lib/{p}").read().decode("utf-8")
        us, ca, states = read("codes.js"), read("codesCanada.js"), read("states.js")
    # states.js is a plain object literal of upper-case names to abbreviations.
    names = {}
    for line in states.splitlines():
        parts = [p.strip(" ,'\"") for p in line.split(":")]
        if len(parts) == 2 and len(parts[1]) == 2 and parts[0].isupper():
            names[parts[1]] = title(parts[0])
    for rec in js_object(us, "codes").values():
        state = rec.get("state") or ""
        rows["US"].append(row("US", rec["zip"], rec.get("city"), names.get(state, ""), state,
                              rec.get("latitude"), rec.get("longitude")))
    for rec in js_object(ca, "codes").values():
        fsa = rec["zip"].upper()
        province = CA_BY_LETTER.get(fsa[:1], "")
        if fsa[:1] == "X" and "nunavut" in (rec.get("state") or "").lower():
            province = "NU"
        rows["CA"].append(row("CA", fsa, rec.get("city"), CA_NAMES.get(province, ""), province,
                              rec.get("latitude"), rec.get("longitude")))
    return rows


def from_csc(whl, skip):
    rows = {}
    prefix = "countrystatecity_postal_codes/data/by-country/"
    with zipfile.ZipFile(whl) as z:
        for info in sorted(z.infolist(), key=lambda i: i.filename):
            parts = info.filename[len(prefix):].split("/")
            if not info.filename.startswith(prefix) or parts[-1] != "postcodes.json":
                continue
            country = parts[0]
            if country in skip:
                continue
            for rec in json.loads(z.read(info)):
                if not rec.get("code"):
                    continue
                rows.setdefault(country, []).append(
                    row(country, rec["code"], rec.get("localityName"), "", rec.get("stateCode"),
                        rec.get("latitude"), rec.get("longitude")))
    return rows


def write(rows, out):
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.txt.gz"):
        old.unlink()
    total = 0
    for country in sorted(rows):
        lines = sorted({"\t".join(r) for r in rows[country]},
                       key=lambda l: (l.split("\t")[1], l))
        text = "".join(l + "\n" for l in lines).encode("utf-8")
        buf = io.BytesIO()
        # mtime=0 and an empty file name keep the gzip header free of anything variable.
        with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as gz:
            gz.write(text)
        (out / f"{country}.txt.gz").write_bytes(buf.getvalue())
        total += len(buf.getvalue())
        print(f"{country}\t{len(lines)}\t{len(buf.getvalue())}")
    print(f"{len(rows)} countries, {sum(len(v) for v in rows.values())} rows, {total} bytes")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="rebuild into a temporary directory and compare with data/postal")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tgz, whl = fetch(tmp)
        rows = from_zipcodes(tgz)
        rows.update(from_csc(whl, skip=set(rows)))
        target = Path(tmp) / "postal" if args.check else OUT
        write(rows, target)
        if args.check:
            ours = sorted(p.name for p in OUT.glob("*.txt.gz"))
            theirs = sorted(p.name for p in target.glob("*.txt.gz"))
            same = ours == theirs and all(
                (OUT / n).read_bytes() == (target / n).read_bytes() for n in ours)
            print("data/postal matches the sources" if same else "data/postal DIFFERS")
            sys.exit(0 if same else 1)


if __name__ == "__main__":
    os.umask(0o022)
    main()
