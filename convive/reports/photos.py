"""Photos from citizens: checked, re-encoded, and stripped of every metadata field.

A photo's EXIF can hold the GPS position of the phone, its serial number and the time; none of it
may reach the database or a page. We decode the image (which proves it is one), apply its
orientation, shrink it to at most ``MAX_SIDE`` pixels and write a fresh JPEG with no metadata.
"""

from __future__ import annotations

import io
import warnings

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from convive.core.errors import ActionError

MAX_PHOTOS = 5
MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 50_000_000  # decompression-bomb guard: a 10 MB file must not unpack to gigabytes
MAX_SIDE = 1600
ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF", "MPO"}
JPEG_QUALITY = 82
ORIENTATION_TAG = 274
# EXIF orientation → the transposition that turns the pixels upright (as ImageOps.exif_transpose).
UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def check_photos(uploads: list[UploadedFile]) -> list[ContentFile]:
    """Every upload as a clean JPEG, or an ActionError naming the first bad one."""
    if len(uploads) > MAX_PHOTOS:
        raise ActionError(
            _("At most %(count)d photos per report.") % {"count": MAX_PHOTOS}, field="photos"
        )
    return [check_photo(upload, position=i + 1) for i, upload in enumerate(uploads)]


def check_photo(upload: UploadedFile, *, position: int = 1) -> ContentFile:
    if upload.size is not None and upload.size > MAX_BYTES:
        raise ActionError(
            _("Photo %(n)d is larger than 10 MB.") % {"n": position}, status=413, field="photos"
        )
    upload.seek(0)  # a form's ImageField may have read it already
    data = upload.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ActionError(
            _("Photo %(n)d is larger than 10 MB.") % {"n": position}, status=413, field="photos"
        )
    return ContentFile(reencode(data, position=position), name="photo.jpg")


def reencode(data: bytes, *, position: int = 1) -> bytes:
    """Decode ``data`` as an image and write it again as a metadata-free JPEG."""
    not_an_image = ActionError(
        _("File %(n)d is not a photo we can read (JPEG, PNG, WebP or GIF).") % {"n": position},
        status=415,
        field="photos",
    )
    # A small file that would decode to gigabytes: refused from its header, before decoding.
    too_many_pixels = ActionError(
        _("Photo %(n)d has too many pixels (at most %(mp)d megapixels).")
        % {"n": position, "mp": MAX_PIXELS // 1_000_000},
        status=413,
        field="photos",
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # corrupt EXIF tags: Pillow skips them, so do we
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format not in ACCEPTED_FORMATS:
                raise not_an_image
            if image.width * image.height > MAX_PIXELS:
                raise too_many_pixels
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise too_many_pixels from exc
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise not_an_image from exc
    try:
        image = _upright(image)
        image.thumbnail((MAX_SIDE, MAX_SIDE))
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
    except (OSError, ValueError) as exc:
        raise not_an_image from exc
    out = io.BytesIO()
    # A new image object carries no info dict: no EXIF, XMP, ICC or comments are written.
    clean = Image.new(image.mode, image.size)
    clean.paste(image)
    clean.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue()


def _upright(image: Image.Image) -> Image.Image:
    """Turn the pixels as the EXIF orientation says; a corrupt EXIF only loses its orientation.

    Not ``ImageOps.exif_transpose``: it writes the EXIF back, which raises on odd tag types,
    and the EXIF is dropped here anyway.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow warns about every corrupt tag it skips
            orientation = image.getexif().get(ORIENTATION_TAG)
    except Exception:  # any parse failure of a metadata block we throw away
        orientation = None
    method = UPRIGHT.get(orientation) if isinstance(orientation, int) else None
    return image if method is None else image.transpose(method)
