"""Photos: decoded, turned upright, shrunk, and written again as a JPEG with no metadata at all."""

import io
import random
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageCms

from convive.core.errors import ActionError
from convive.reports.photos import MAX_BYTES, MAX_SIDE, check_photo, check_photos

pytestmark = pytest.mark.usefixtures("english")  # messages are compared in English

GPS_IFD = 0x8825
ORIENTATION = 274
XMP = b"<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF/></x:xmpmeta>"
# JPEG segments a metadata-free file may hold: JFIF header, tables, frame, restart interval.
ALLOWED_SEGMENTS = {0xE0, 0xDB, 0xC4, 0xC0, 0xC1, 0xC2, 0xDD}


def gps_exif(orientation=None) -> Image.Exif:
    exif = Image.Exif()
    exif[GPS_IFD] = {1: "N", 2: (4.0, 36.0, 0.0), 3: "W", 4: (74.0, 9.0, 0.0)}
    exif[0x010F] = "PhoneMaker"  # camera make
    if orientation is not None:
        exif[ORIENTATION] = orientation
    return exif


def two_halves(size=(40, 20)) -> Image.Image:
    """Left half red, right half blue: shows which way the photo was turned."""
    image = Image.new("RGB", size, (255, 0, 0))
    image.paste((0, 0, 255), (size[0] // 2, 0, size[0], size[1]))
    return image


def encode(image: Image.Image, fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def upload(data: bytes, name="IMG_2024.jpg", content_type="image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def jpeg_segments(data: bytes) -> list[int]:
    """The markers of every segment before the image data."""
    assert data[:2] == b"\xff\xd8", "not a JPEG"
    markers, position = [], 2
    while True:
        assert data[position] == 0xFF
        marker = data[position + 1]
        if marker == 0xDA:  # start of scan: metadata can no longer follow in a baseline file
            return markers
        markers.append(marker)
        position += 2 + struct.unpack(">H", data[position + 2 : position + 4])[0]


def assert_clean(data: bytes) -> Image.Image:
    assert set(jpeg_segments(data)) <= ALLOWED_SEGMENTS  # no APP1 (EXIF/XMP), APP2 (ICC), COM
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG"
    assert not image.getexif()
    for key in ("exif", "xmp", "icc_profile", "comment", "XML:com.adobe.xmp"):
        assert key not in image.info
    return image


def png_of_zeros(side: int) -> bytes:
    """A valid 1-bit PNG of ``side`` by ``side`` black pixels: tiny on disk, huge once decoded."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    rows, compressor = b"\x00" * ((1 + (side + 7) // 8) * 500), zlib.compressobj(9)
    data = b"".join(compressor.compress(rows) for _ in range(side // 500)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


# --- Accepted, and cleaned -------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_gps_exif_and_every_other_metadata_is_gone(fmt):
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    params = {"exif": gps_exif(), "icc_profile": icc}
    if fmt == "JPEG":
        params |= {"comment": b"Casa de Ana, calle 40", "xmp": XMP}
    original = encode(two_halves(), fmt, **params)
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD)  # the input had it

    cleaned = check_photo(upload(original)).read()

    image = assert_clean(cleaned)
    assert image.size == (40, 20)
    assert b"PhoneMaker" not in cleaned


@pytest.mark.parametrize(
    ("orientation", "size", "top_left"),
    [
        (1, (40, 20), "red"),
        (3, (40, 20), "blue"),  # upside down
        (6, (20, 40), "red"),  # turned: the phone was held upright
        (8, (20, 40), "blue"),
    ],
)
def test_the_photo_is_turned_upright_by_its_orientation_tag(orientation, size, top_left):
    original = encode(two_halves(), "JPEG", exif=gps_exif(orientation), quality=95)

    image = assert_clean(check_photo(upload(original)).read()).convert("RGB")

    assert image.size == size
    red, _green, blue = image.getpixel((2, 2))
    assert (red > blue) == (top_left == "red"), image.getpixel((2, 2))


def test_a_big_photo_is_shrunk_to_1600_px_and_a_small_one_kept():
    big = encode(Image.new("RGB", (4000, 3000), "white"), "JPEG")
    tall = encode(Image.new("RGB", (900, 3600), "white"), "PNG")
    small = encode(Image.new("RGB", (30, 20), "white"), "WEBP")

    sizes = [
        assert_clean(photo.read()).size
        for photo in check_photos([upload(b) for b in (big, tall, small)])
    ]

    assert sizes == [(MAX_SIDE, 1200), (400, MAX_SIDE), (30, 20)]


@pytest.mark.parametrize(
    ("mode", "fmt", "params"),
    [
        ("RGBA", "PNG", {}),
        ("LA", "PNG", {}),
        ("P", "PNG", {"transparency": 0}),
        ("1", "PNG", {}),
        ("I;16", "PNG", {}),
        ("CMYK", "JPEG", {}),
        ("L", "JPEG", {}),
        ("P", "GIF", {}),
    ],
    ids=["rgba", "la", "palette", "bilevel", "16-bit", "cmyk", "grey", "gif"],
)
def test_every_colour_mode_comes_out_as_a_plain_jpeg(mode, fmt, params):
    original = encode(Image.new(mode, (24, 16)), fmt, **params)
    image = assert_clean(check_photo(upload(original)).read())
    assert image.mode in {"RGB", "L"}
    assert image.size == (24, 16)


def test_a_file_already_read_by_a_form_is_read_from_its_start():
    photo = upload(encode(two_halves(), "JPEG"))
    photo.read()
    assert assert_clean(check_photo(photo).read()).size == (40, 20)


def test_the_name_of_the_upload_is_not_kept():
    cleaned = check_photo(upload(encode(two_halves(), "JPEG"), name="Ana_Perez_casa.jpg"))
    assert cleaned.name == "photo.jpg"


# --- Refused ---------------------------------------------------------------------------------


def refused(uploads, status, position=1):
    with pytest.raises(ActionError) as caught:
        check_photos(uploads)
    assert (caught.value.status, caught.value.field) == (status, "photos"), caught.value.message
    assert str(position) in caught.value.message
    return caught.value


def test_at_most_five_photos():
    photos = [upload(encode(two_halves(), "JPEG")) for _ in range(6)]
    assert len(check_photos(photos[:5])) == 5
    with pytest.raises(ActionError) as caught:
        check_photos(photos)
    assert (caught.value.status, caught.value.field) == (400, "photos")


def test_more_than_10_mb_is_too_large():
    refused([upload(b"\xff" * (MAX_BYTES + 1))], 413)


def test_a_size_that_lies_is_caught_while_reading():
    lying = upload(b"\xff" * (MAX_BYTES + 1))
    lying.size = 1000
    refused([lying], 413)


@pytest.mark.parametrize(
    "data",
    [
        b"Esto no es una foto, es un texto con extension .jpg\n",
        b"",
        b"\xff\xd8\xff\xe0 not really",
        b"<svg xmlns='http://www.w3.org/2000/svg'/>",
    ],
    ids=["text", "empty", "jpeg-magic-only", "svg"],
)
def test_something_that_is_not_a_photo_is_unsupported(data):
    good = upload(encode(two_halves(), "JPEG"))
    error = refused([good, upload(data, name="foto.jpg")], 415, position=2)
    assert "JPEG" in error.message


@pytest.mark.parametrize("fmt", ["TIFF", "BMP", "PPM"])
def test_formats_other_than_the_usual_photo_ones_are_unsupported(fmt):
    refused([upload(encode(two_halves(), fmt), name=f"foto.{fmt.lower()}")], 415)


def test_a_truncated_jpeg_is_refused():
    noise = Image.frombytes("RGB", (200, 200), random.Random(4).randbytes(200 * 200 * 3))
    whole = encode(noise, "JPEG", quality=90)
    refused([upload(whole[: len(whole) // 2])], 415)


@pytest.mark.parametrize("side", [8_000, 20_000], ids=["64-megapixels", "400-megapixels"])
def test_a_decompression_bomb_is_refused_without_decoding_it(side):
    bomb = png_of_zeros(side)
    assert len(bomb) < 1_000_000  # small on the wire: only its pixel count gives it away
    error = refused([upload(bomb, name="bomba.png", content_type="image/png")], 413)
    assert "pixels" in error.message


def test_a_corrupt_exif_is_dropped_without_refusing_the_photo():
    """Phones and editors write broken EXIF: the photo is still good, and its EXIF goes anyway."""
    original = encode(two_halves(), "JPEG", exif=gps_exif(orientation=6))
    start = original.index(b"Exif\x00\x00") + 6  # the TIFF structure inside the APP1 segment
    end = start - 8 + struct.unpack(">H", original[start - 8 : start - 6])[0]
    rng = random.Random(1)
    for _ in range(1000):
        broken = bytearray(original)
        for _ in range(rng.randint(1, 6)):
            broken[rng.randrange(start, end)] = rng.randrange(256)
        assert_clean(check_photo(upload(bytes(broken))).read())


def test_an_unreadable_exif_leaves_the_photo_as_it_was_taken(monkeypatch):
    def unreadable(self):
        raise SyntaxError("not a TIFF file")

    monkeypatch.setattr(Image.Image, "getexif", unreadable)
    original = encode(two_halves(), "JPEG", exif=gps_exif(orientation=6))
    cleaned = check_photo(upload(original)).read()
    monkeypatch.undo()
    assert assert_clean(cleaned).size == (40, 20)  # not turned: the orientation was unreadable
