"""Input discovery: which images the workflow works on, and their stable ids.

The Snakefile calls :func:`discover_images` once at start so that every image
becomes a wildcard value. Only headers are read here (to find the SCI
extensions of multi-extension files); pixels are read by the per-image jobs.
"""

import csv
import glob
import sys
from dataclasses import dataclass
from pathlib import Path

from skymatchflow.errors import InputError
from skymatchflow.io.inputchecks import MAX_ID, UNSAFE_NAME_CHARS, check_extension_spec, check_paths, short_name

FITS_SUFFIXES = (".fits", ".fit", ".fts")
#: suffixes of files astropy decompresses whole (no region reads, no memory map)
WHOLE_FILE_COMPRESSION = (".gz", ".bz2", ".zip", ".z")
#: every compression suffix a FITS file name may end in (.fz: tile compression, read by region)
COMPRESSION_SUFFIXES = WHOLE_FILE_COMPRESSION + (".fz",)
#: the image sheet's columns are defined by its schema, which each row must pass
SHEET_SCHEMA = Path(__file__).resolve().parents[3] / "workflow" / "schemas" / "image_sheet.schema.yaml"
SHEET_COLUMNS = ("file", "sci", "dq", "group")  # the schema's properties, in this order (tested)
#: old sheet column names still read, with a one-line deprecation: {old: new}
DEPRECATED_SHEET_COLUMNS = {"path": "file"}
# DQ spec meaning "the DQ extension with the SCI's EXTVER, if the file has one".
AUTO_DQ = "auto"


@dataclass(frozen=True)
class ImageSpec:
    """One image (one SCI array) and where its pieces live.

    ``sci`` and ``dq`` are extension specs as strings (``"SCI,2"``, ``"0"``,
    ``"S4"``); ``dq_file`` is a separate DQ file, in which case ``dq`` names
    its extension (or is empty: first image HDU); ``dq`` "auto" means the
    DQ extension with the SCI's EXTVER if the file has one, else no DQ. ``group`` is the sheet's
    explicit group, which wins over every grouping rule.
    """

    image: str
    file: str
    sci: str
    dq: str = ""
    dq_file: str = ""
    group: str = ""

    @classmethod
    def from_params(cls, params):
        """Rebuild the spec from :meth:`as_params` output (inside a rule job)."""
        return cls(
            image=params["image"],
            file=params["file"],
            sci=params["sci"],
            dq=params["dq"],
            dq_file=params["dq_file"],
            group=params["group"],
        )

    def as_params(self):
        """The fields a rule needs, as a plain dict (stable repr for params)."""
        return {
            "image": self.image,
            "file": self.file,
            "sci": self.sci,
            "dq": self.dq,
            "dq_file": self.dq_file,
            "group": self.group,
        }


def file_stem(path):
    """File name without its FITS (and compression) suffixes."""
    name = Path(path).name
    for suffix in COMPRESSION_SUFFIXES:
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    for suffix in FITS_SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def parse_extension(spec):
    """Extension spec string -> what astropy's HDUList indexing takes."""
    spec = str(spec).strip()
    if spec.lstrip("-").isdigit():
        return int(spec)
    if "," in spec:
        name, ver = spec.split(",", 1)
        return (name.strip(), int(ver))
    return spec


def first_image_index(naxis_values):
    """Index of the first HDU holding an image (NAXIS >= 2), or None: "the image" of a plain file."""
    return next((index for index, naxis in enumerate(naxis_values) if naxis >= 2), None)


def _image_hdus(path):
    """(sci, dq) extension specs for every image in one existing file.

    A file with one SCI extension gets ``SCI`` (not ``SCI,1``), the same spec
    as a file that a rule has yet to make, so the spec, and therefore the
    rule's params, does not change once the file exists.
    """
    from astropy.io import fits  # here, not at the top: Snakemake imports this module at every start

    try:
        with fits.open(path, mode="readonly", memmap=True) as hdul:
            hdus = [(h.name, h.ver, h.header.get("NAXIS", 0) if h.is_image else 0) for h in hdul]
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    except OSError as err:
        raise InputError(path, f"not a readable FITS file ({err})") from None
    sci = [ver for name, ver, _ in hdus if name == "SCI"]
    if len(sci) == 1:
        return [("SCI", AUTO_DQ)]
    if sci:
        return [(f"SCI,{ver}", AUTO_DQ) for ver in sci]
    index = first_image_index(naxis for _, _, naxis in hdus)
    if index is not None:
        return [(str(index), AUTO_DQ)]
    raise InputError(path, "no SCI extension and no 2-D image HDU (tables are not images)")


def _entries_from_patterns(patterns):
    """Expand the config's ``images`` list: globs sorted, literal paths kept.

    A literal path that does not exist yet is kept as one single-SCI image
    (a rule, such as the demo generator, may make it); Snakemake then names
    it if nothing does.
    """
    entries = []
    for pattern in patterns:
        if glob.has_magic(pattern):
            matches = sorted(glob.glob(pattern))
            if not matches:
                raise InputError(pattern, "config key 'images': pattern matches no file")
            entries.extend({"file": match} for match in matches)
        else:
            entries.append({"file": pattern})
    return entries


def read_image_sheet(sheet_path):
    """Rows of the TSV image sheet as dicts with every column present."""
    try:
        with open(sheet_path, newline="", encoding="utf-8-sig") as handle:  # a spreadsheet's BOM
            reader = csv.DictReader(handle, delimiter="\t")
            if reader.fieldnames is not None:
                reader.fieldnames = [_current_column(sheet_path, name, reader.fieldnames) for name in reader.fieldnames]
            if reader.fieldnames is None or "file" not in reader.fieldnames:
                raise InputError(sheet_path, "image sheet needs a 'file' column")
            unknown = set(reader.fieldnames) - set(SHEET_COLUMNS)
            if unknown:
                raise InputError(
                    sheet_path,
                    f"unknown image sheet column(s) {sorted(unknown)}; allowed: {list(SHEET_COLUMNS)}",
                )
            rows = [
                {col: (row.get(col) or "").strip() for col in SHEET_COLUMNS}
                for row in reader
            ]
    except FileNotFoundError:
        raise InputError(sheet_path, "image sheet not found") from None
    except OSError as err:
        raise InputError(sheet_path, f"image sheet cannot be read ({err.strerror})") from None
    except UnicodeDecodeError as err:
        raise InputError(sheet_path, f"image sheet is not UTF-8 text (byte {err.start})") from None
    from jsonschema.exceptions import best_match  # here: only a sheet needs it, not every job

    validator = _sheet_validator()
    for number, row in enumerate(rows, start=2):
        if not row["file"]:
            raise InputError(sheet_path, f"line {number}: empty 'file'")
        error = best_match(validator.iter_errors({key: value for key, value in row.items() if value}))
        if error is not None:
            where = ".".join(str(part) for part in error.path)
            raise InputError(sheet_path, f"line {number}: {where + ': ' if where else ''}{error.message}")
        check_sheet_extensions(sheet_path, number, row)
    if not rows:
        raise InputError(sheet_path, "image sheet lists no image")
    return rows


def _current_column(sheet_path, name, names):
    """A sheet column's name, an old one (DEPRECATED_SHEET_COLUMNS) replaced after one line saying so."""
    new = DEPRECATED_SHEET_COLUMNS.get(name)
    if new is None or new in names:
        return name
    print(f"Deprecated: {sheet_path}: image sheet column '{name}' is now '{new}'; rename it", file=sys.stderr)
    return new


def _sheet_validator():
    import yaml
    from jsonschema import Draft202012Validator

    return Draft202012Validator(yaml.safe_load(SHEET_SCHEMA.read_text()))


def check_sheet_extensions(sheet_path, number, row):
    """A sheet's sci/dq extension specs must parse (``SCI,abc`` names no extension)."""
    for column in ("sci", "dq"):
        value = row[column]
        if not value or (column == "dq" and (value == AUTO_DQ or _looks_like_file(value))):
            continue
        reason = check_extension_spec(value)
        if reason:
            raise InputError(sheet_path, f"line {number}: {column} {value!r} {reason}")


def _looks_like_file(dq):
    lower = dq.lower()
    return "/" in dq or any(
        lower.endswith(s) for s in FITS_SUFFIXES + COMPRESSION_SUFFIXES
    )


def _specs_for_entry(entry, image_hdus, refused=None):
    """All ImageSpecs of one images-list entry or sheet row (ids not final).

    ``refused`` ({path: reason}, ``on_bad_input: skip``): a file whose layout
    cannot be read is recorded there and kept as one image, to be SKIPPED.
    """
    path = entry["file"]
    group = entry.get("group", "")
    dq = entry.get("dq", "") or AUTO_DQ
    dq_file = ""
    if _looks_like_file(dq):
        dq_file, dq = dq, ""
    if entry.get("sci"):
        pairs = [(entry["sci"], dq)]
    elif Path(path).exists():
        try:
            pairs = [(sci, dq) for sci, _ in image_hdus(path)]
        except InputError as err:
            if refused is None or err.source != path:
                raise
            refused[path] = str(err)
            pairs = [("SCI", dq)]
    else:
        pairs = [("SCI", dq)]
    if dq_file and len(pairs) > 1:
        raise InputError(path, "a separate DQ file needs an explicit 'sci' column")
    return [
        ImageSpec(image="", file=path, sci=sci, dq=d, dq_file=dq_file, group=group)
        for sci, d in pairs
    ]


def _assign_ids(specs):
    """Ids from file names (plus the extension when a file has several)."""
    per_file = {}
    for spec in specs:
        per_file[spec.file] = per_file.get(spec.file, 0) + 1
    result = {}
    for spec in specs:
        image = file_stem(spec.file)
        if per_file[spec.file] > 1:
            image += "_" + spec.sci.replace(",", "").lower()
        image = UNSAFE_NAME_CHARS.sub("_", image)
        image = short_name(image, MAX_ID)
        if image in result:
            other = result[image]
            if other.file == spec.file:
                raise InputError(spec.file, f"listed twice (image id {image!r})")
            raise InputError(
                spec.file,
                f"image id {image!r} clashes with {other.file}; rename one file",
            )
        result[image] = ImageSpec(
            image, spec.file, spec.sci, spec.dq, spec.dq_file, spec.group
        )
    return result


def discover_images(config, layouts=None, refused=None):
    """Config -> {image id: ImageSpec}, in input order.

    Exactly one of ``images`` (paths or globs), ``image_sheet`` (TSV) and
    ``associations`` (JWST ``*_asn.json``) is used; check_config enforces that.
    ``layouts`` (a LayoutCache) spares opening files whose layout is known.
    ``refused`` (a dict, ``on_bad_input: skip``) collects {path: one line} of
    the files that are no readable image instead of stopping (see startskips).
    """
    if config.get("associations"):
        from skymatchflow.io._associations import association_entries

        entries = association_entries(config["associations"])
    elif config.get("image_sheet"):
        entries = read_image_sheet(config["image_sheet"])
    else:
        entries = _entries_from_patterns(config.get("images") or [])
    if not entries:
        raise InputError("config", "no input image: set 'images' or 'image_sheet'")

    def image_hdus(path):
        return layouts.image_hdus(path, _image_hdus) if layouts is not None else _image_hdus(path)

    specs = [spec for entry in entries for spec in _specs_for_entry(entry, image_hdus, refused)]
    check_paths(specs)
    return _assign_ids(specs)
